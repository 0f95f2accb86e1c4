"""A year's holiday notice as admins enter it: a small YAML or JSON file that mirrors the State
Council's notice (each holiday's name, its days off and its make-up working days), or a city's own
closed days. Checked for shape, then for meaning; every error names where it is, and a notice with
any error is refused whole. Pure.

    year: 2026
    scope: national            # or local: the city's own closed days (no make-up working days)
    notice: 国务院办公厅关于2026年部分节假日安排的通知（国办发明电〔2025〕7号）
    holidays:
      - name: 春节
        days_off: {from: 2026-02-15, to: 2026-02-23}   # or one day: days_off: 2026-04-05
        total_days: 9                                  # optional: "共9天", checked
        make_up_workdays: [2026-02-14, 2026-02-28]
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Annotated, Any

import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError
from pydantic_core import ErrorDetails

from domain.calendar import FIRST_YEAR, LAST_YEAR, Holiday, Notice, Scope, is_weekend
from domain.errors import Invalid
from domain.plain_yaml import load_plain_yaml

MAX_NOTICE_BYTES = 100_000
MAX_HOLIDAY_DAYS = 31
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


@dataclass(frozen=True)
class NoticeError:
    where: str
    problem: str

    def __str__(self) -> str:
        return f"{self.where}: {self.problem}"


class InvalidNotice(Invalid, ValueError):
    code = "calendar_notice_invalid"

    def __init__(self, errors: list[NoticeError]):
        self.errors = errors
        super().__init__(
            f"the notice is invalid ({len(errors)} errors); nothing was stored:\n"
            + "\n".join(f"  - {e}" for e in errors)
        )

    def fields(self) -> dict[str, Any]:
        return {"errors": [{"where": e.where, "problem": e.problem} for e in self.errors]}


def _day(value: object) -> date:
    if isinstance(value, datetime):
        raise ValueError("a day, not a time: write YYYY-MM-DD")
    if isinstance(value, date):
        return value
    if isinstance(value, str) and _ISO_DAY.fullmatch(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise ValueError(f"{value} is not a day of the calendar") from None
    raise ValueError("a day is written YYYY-MM-DD")


Day = Annotated[date, BeforeValidator(_day)]


class _Span(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    first: Day = Field(alias="from")
    last: Day = Field(alias="to")


class _HolidayIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=64)
    days_off: _Span | Day
    total_days: int | None = Field(default=None, ge=1, le=MAX_HOLIDAY_DAYS)
    make_up_workdays: list[Day] = Field(default_factory=list, max_length=10)

    def span(self) -> tuple[date, date]:
        return (self.days_off.first, self.days_off.last) if isinstance(self.days_off, _Span) else (self.days_off,) * 2


class _NoticeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    year: int = Field(ge=FIRST_YEAR, le=LAST_YEAR)
    scope: Scope = Scope.NATIONAL
    notice: str = Field(min_length=1, max_length=300)
    holidays: list[_HolidayIn] = Field(max_length=60)


def _shape_error(err: ErrorDetails) -> NoticeError:
    parts: list[str] = []
    for part in err["loc"]:
        if isinstance(part, int):
            parts[-1:] = [f"{parts[-1]}[{part}]"] if parts else [f"[{part}]"]
        elif part not in (_SPAN_BRANCH, _DAY_BRANCH):
            parts.append(str(part))
    where = ".".join(parts) or "notice"
    if err["type"] == "extra_forbidden":
        return NoticeError(where, "unknown field: remove it or check its spelling")
    if err["type"] == "missing":
        return NoticeError(where, "missing")
    message = str(err["msg"]).removeprefix("Value error, ")
    return NoticeError(where, message)


_SPAN_BRANCH, _DAY_BRANCH = "_Span", "function-before[_day(), date]"


def _other_branch(err: ErrorDetails) -> bool:
    """days_off is a span or one day: an error of the form the admin did not write is noise."""
    loc = err["loc"]
    if "days_off" not in loc or loc.index("days_off") + 1 >= len(loc):
        return False
    branch = loc[loc.index("days_off") + 1]
    wrote_span = isinstance(err["input"], dict) or branch == _SPAN_BRANCH and len(loc) > loc.index("days_off") + 2
    return branch == (_DAY_BRANCH if wrote_span else _SPAN_BRANCH)


def _shape_errors(exc: ValidationError) -> list[NoticeError]:
    errors: list[NoticeError] = []
    for err in exc.errors():
        if _other_branch(err):
            continue
        error = _shape_error(err)
        if error not in errors:
            errors.append(error)
    return errors


def _weekday(day: date) -> str:
    return WEEKDAYS[day.weekday()]


def _meaning_errors(data: _NoticeIn) -> Iterator[NoticeError]:
    year = data.year
    if data.scope is Scope.NATIONAL and not data.holidays:
        yield NoticeError("holidays", "a national notice lists its holidays; none are given")
    taken: dict[date, int] = {}  # day off -> the holiday it belongs to
    for index, holiday in enumerate(data.holidays):
        where = f"holidays[{index}]"
        first, last = holiday.span()
        for end, day in (("from", first), ("to", last)):
            if day.year != year:
                field = f"days_off.{end}" if isinstance(holiday.days_off, _Span) else "days_off"
                yield NoticeError(
                    f"{where}.{field}", f"{day} is not in {year}: a notice holds the days of its own year"
                )
        if last < first:
            yield NoticeError(f"{where}.days_off", f"ends ({last}) before it begins ({first})")
            continue
        count = (last - first).days + 1
        if count > MAX_HOLIDAY_DAYS:
            yield NoticeError(f"{where}.days_off", f"{count} days; a holiday is at most {MAX_HOLIDAY_DAYS} days")
            continue
        if holiday.total_days is not None and holiday.total_days != count:
            yield NoticeError(
                f"{where}.total_days", f"says {holiday.total_days} days, but {first} to {last} is {count} days"
            )
        for offset in range(count):
            day = first + timedelta(days=offset)
            if day in taken:
                other = taken[day]
                yield NoticeError(
                    f"{where}.days_off",
                    f"overlaps holidays[{other}] ({data.holidays[other].name}) on {day}: a day belongs to one holiday",
                )
                break
        for offset in range(count):
            taken.setdefault(first + timedelta(days=offset), index)
    seen: set[date] = set()
    for index, holiday in enumerate(data.holidays):
        for position, day in enumerate(holiday.make_up_workdays):
            where = f"holidays[{index}].make_up_workdays[{position}]"
            if data.scope is Scope.LOCAL:
                yield NoticeError(
                    where, "a local notice only closes days; make-up working days come from the national notice"
                )
            elif day.year != year:
                yield NoticeError(where, f"{day} is not in {year}: a notice holds the days of its own year")
            elif not is_weekend(day):
                yield NoticeError(
                    where, f"{day} is a {_weekday(day)}; a make-up working day (调休上班) is a Saturday or Sunday"
                )
            elif day in taken:
                yield NoticeError(
                    where, f"{day} is a day off of holidays[{taken[day]}] ({data.holidays[taken[day]].name})"
                )
            elif day in seen:
                yield NoticeError(where, f"{day} is listed twice")
            seen.add(day)


def parse_notice(data: object) -> Notice:
    """A notice from its data (a parsed YAML or JSON document); raises InvalidNotice naming every error."""
    if not isinstance(data, dict):
        raise InvalidNotice([NoticeError("notice", "a notice is a mapping with year, scope, notice and holidays")])
    try:
        shaped = _NoticeIn.model_validate(data)
    except ValidationError as exc:
        raise InvalidNotice(_shape_errors(exc)) from None
    errors = list(_meaning_errors(shaped))
    if errors:
        raise InvalidNotice(errors)
    holidays = tuple(
        Holiday(h.name, *h.span(), make_up_workdays=tuple(sorted(h.make_up_workdays))) for h in shaped.holidays
    )
    return Notice(shaped.year, shaped.scope, shaped.notice, tuple(sorted(holidays, key=lambda h: h.first_day)))


def parse_notice_text(text: str) -> Notice:
    """A notice from a YAML or JSON file's text."""
    try:
        size = len(text.encode("utf-8"))
    except UnicodeEncodeError as exc:
        raise InvalidNotice([NoticeError("notice", f"not text: {exc.reason} at character {exc.start}")]) from None
    if size > MAX_NOTICE_BYTES:
        raise InvalidNotice([NoticeError("notice", f"{size} bytes; a notice file is at most {MAX_NOTICE_BYTES} bytes")])
    try:
        data = load_plain_yaml(text)
    except yaml.YAMLError as exc:
        raise InvalidNotice([NoticeError("notice", f"not valid YAML or JSON: {exc}")]) from None
    return parse_notice(data)


def notice_document(notice: Notice) -> dict[str, Any]:
    """The notice as JSON-ready data, in the shape parse_notice reads."""
    return {
        "year": notice.year,
        "scope": str(notice.scope),
        "notice": notice.title,
        "holidays": [
            {
                "name": h.name,
                "days_off": {"from": h.first_day.isoformat(), "to": h.last_day.isoformat()},
                "make_up_workdays": [day.isoformat() for day in h.make_up_workdays],
            }
            for h in notice.holidays
        ],
    }
