"""Possible repeats (重复件) of a new request: the same caller or the same place, saying much the same thing, lately.

Only candidates for the agent: the same facts with nothing new are not accepted again, but that is a judgement.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from rapidfuzz import fuzz

from domain.tickets import Ticket
from routing.text import normalise, tokens

Reason = Literal["same caller", "same place"]


@dataclass(frozen=True)
class PriorRequest:
    """What duplicate detection compares of a request, new or earlier."""

    number: str  # ticket number
    caller_number: str
    district: str
    street: str
    address: str
    content: str
    created_at: datetime


def prior_request(ticket: Ticket) -> PriorRequest:
    return PriorRequest(
        number=ticket.number,
        caller_number=ticket.caller_number or "",
        district=ticket.district or "",
        street=ticket.street or "",
        address=ticket.address or "",
        content=ticket.content,
        created_at=ticket.created_at,
    )


def _phone(number: str) -> str:
    """Digits only, without China's +86/0086 prefix; '' for a withheld number."""
    digits = re.sub(r"\D", "", number)
    return re.sub(r"^(0086|86)(?=1\d{10}$)", "", digits)


def _place(text: str) -> str:
    return re.sub(r"[\s\W_]", "", normalise(text))


def _reason(new: PriorRequest, prior: PriorRequest) -> Reason | None:
    caller = _phone(new.caller_number)
    if caller and caller == _phone(prior.caller_number):
        return "same caller"
    pairs = ((new.district, prior.district), (new.street, prior.street))
    same_area = all(_place(a) and _place(a) == _place(b) for a, b in pairs)
    address = _place(new.address)
    if same_area or (address and address == _place(prior.address)):
        return "same place"
    return None


def duplicate_candidates(
    new: PriorRequest, prior: Iterable[PriorRequest], within_days: int = 30, min_similarity: float = 60
) -> list[tuple[PriorRequest, float, Reason]]:
    """Prior requests within `within_days` of `new` (either side, for tickets entered late) from the same caller or
    place whose content is at least `min_similarity` (0..100) alike; most similar first, then most recent."""
    window = timedelta(days=within_days)
    content = " ".join(tokens(new.content))
    found: list[tuple[PriorRequest, float, Reason]] = []
    for request in prior:
        if request.number == new.number or abs(new.created_at - request.created_at) > window:
            continue
        reason = _reason(new, request)
        if reason is None:
            continue
        similarity = fuzz.token_set_ratio(content, " ".join(tokens(request.content)))
        if similarity >= min_similarity:
            found.append((request, round(similarity, 1), reason))
    found.sort(key=lambda item: (-item[1], -item[0].created_at.timestamp()))
    return found
