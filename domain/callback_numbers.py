"""Which numbers the centre may call back. Callbacks go out with caller ID 12345, so they are made to
domestic subscribers only: never to emergency or service short numbers (110, 119, 120, 122, 12345 …),
premium-rate or information services (95xxx, 96xxx, 168 …) or abroad (+, 00). Pure."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from domain.errors import Invalid

# Mobile: 11 digits on the prefixes allocated to mobile networks (not 140-144, 154, 160/161, 163/164, 168/169,
# 174, 179, 194: data-only, unallocated or information services).
MOBILE = r"1(3[0-9]|4[5-9]|5[0-35-9]|6[25-7]|7[0-35-8]|8[0-9]|9[0-35-9])[0-9]{8}"
# Fixed line: a trunk prefix 0, an area code (010, 02x, or 0 and three digits), then a subscriber number of
# 7 or 8 digits beginning 2-8 (1 and 9 begin service and premium numbers; 00 is the international prefix).
FIXED_LINE = r"0(10|2[0-9])[2-8][0-9]{7}|0[3-9][0-9]{2}[2-8][0-9]{6,7}"
DOMESTIC = (MOBILE, FIXED_LINE)


class RefusedNumber(Invalid):
    code = "callback_number_refused"


@dataclass(frozen=True)
class CallbackNumbers:
    """The numbers callbacks may go to: those matching one of `allowed` (regular expressions, each
    matching the whole number)."""

    allowed: tuple[str, ...] = DOMESTIC
    _patterns: tuple[re.Pattern[str], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_patterns", tuple(re.compile(p) for p in self.allowed))

    def allows(self, number: str) -> bool:
        return any(p.fullmatch(number) for p in self._patterns)

    def check(self, number: str) -> str:
        """`number`, or RefusedNumber (the number is not echoed: it is someone's data)."""
        if not self.allows(number):
            raise RefusedNumber(
                "the centre calls back domestic numbers only: a mobile number (11 digits) or a fixed line with its "
                "area code (e.g. 059187654321); never emergency, service, premium-rate or international numbers"
            )
        return number
