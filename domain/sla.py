"""Time limits (限时办结) in Chinese working days, with early warnings (预警).

Working days come from `chinese_calendar`: weekends and public holidays off, make-up working
weekends (调休) on. Years the library does not know raise CalendarOutOfRange: a deadline is
never guessed."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum

import chinese_calendar

from domain.tickets import SHANGHAI, RequestType

DEFAULT_LIMITS: Mapping[RequestType, int] = {
    RequestType.CONSULTATION: 2,
    RequestType.HELP: 10,
    RequestType.SUGGESTION: 10,
    RequestType.COMPLAINT: 15,
    RequestType.REPORT: 15,
}


@dataclass(frozen=True, slots=True)
class SlaPolicy:
    """A city's limits (defaults: Huizhou's time limits, Haikou's 30 minutes for urgent tickets)."""

    limits: Mapping[RequestType, int] = field(default_factory=lambda: dict(DEFAULT_LIMITS))
    warning_share: float = 0.8
    urgent_contact_minutes: int = 30


class CalendarOutOfRange(ValueError):
    pass


def is_workday(day: date) -> bool:
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError as error:
        raise CalendarOutOfRange(
            f"no Chinese working-day calendar for {day.year} ({error}); update the chinesecalendar package"
        ) from error


def _local(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("datetimes must be timezone-aware")
    return moment.astimezone(SHANGHAI)


def _end_of(day: date) -> datetime:
    return datetime.combine(day, time.max, tzinfo=SHANGHAI)


def add_working_days(start: datetime, days: int) -> datetime:
    """End (23:59:59.999999 Shanghai) of the `days`-th working day after the start's day.

    Counting starts the day after the start, so a request received on a working day counts
    from the next working day and one received on a holiday from the first working day after.
    `days=0` gives the end of the start's own day."""
    if days < 0:
        raise ValueError("days must not be negative")
    day = _local(start).date()
    counted = 0
    while counted < days:
        day += timedelta(days=1)
        if is_workday(day):
            counted += 1
    return _end_of(day)


def working_days_between(start: datetime, end: datetime) -> float:
    """Elapsed time that falls on working days (Shanghai calendar days), in days of 24 hours.

    Fri 17:00 to Mon 09:00 is 7 h + 9 h = 0.67 working days; time on weekends and holidays does
    not count. Used for average handling time."""
    start, end = _local(start), _local(end)
    if end < start:
        raise ValueError("end is before start")
    total = timedelta()
    day = start.date()
    while day <= end.date():
        if is_workday(day):
            day_start = datetime.combine(day, time.min, tzinfo=SHANGHAI)
            total += min(end, day_start + timedelta(days=1)) - max(start, day_start)
        day += timedelta(days=1)
    return total / timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Deadlines:
    close_by: datetime
    contact_by: datetime | None  # urgent tickets only


def deadline_for(
    ticket_type: RequestType, urgent: bool, created_at: datetime, policy: SlaPolicy, extension_days: int = 0
) -> Deadlines:
    """The time limit, plus approved extension days; urgent tickets also get a contact deadline."""
    close_by = add_working_days(created_at, policy.limits[ticket_type] + extension_days)
    return Deadlines(close_by, urgent_contact_deadline(created_at, policy) if urgent else None)


class SlaState(StrEnum):
    OK = "ok"
    WARNING = "warning"
    OVERDUE = "overdue"


def sla_state(created_at: datetime, deadline: datetime, now: datetime, policy: SlaPolicy) -> SlaState:
    """WARNING once `warning_share` of the working time from creation to deadline has elapsed.

    Working time rather than wall-clock time, so a holiday inside the span does not set off
    the warning early."""
    if now > deadline:
        return SlaState.OVERDUE
    span = working_days_between(created_at, deadline)
    elapsed = working_days_between(created_at, max(now, created_at))
    return SlaState.WARNING if elapsed >= policy.warning_share * span else SlaState.OK


UNKNOWN_STATE = "unknown"  # the working-day calendar does not reach the ticket's dates yet


def states_of(spans: Iterable[tuple[datetime, datetime]], now: datetime, policy: SlaPolicy) -> dict[str, int]:
    """How many open tickets, given as (created, deadline), are in each SLA state now."""
    counts = dict.fromkeys([*map(str, SlaState), UNKNOWN_STATE], 0)
    for created_at, deadline in spans:
        try:
            counts[str(sla_state(created_at, deadline, now, policy))] += 1
        except CalendarOutOfRange:
            counts[UNKNOWN_STATE] += 1
    return counts


def urgent_contact_deadline(created_at: datetime, policy: SlaPolicy) -> datetime:
    return created_at + timedelta(minutes=policy.urgent_contact_minutes)


class UrgentState(StrEnum):
    AWAITING_CONTACT = "awaiting_contact"
    CONTACTED = "contacted"  # caller contacted, unit not yet on site
    ON_SITE = "on_site"  # on site in time
    LATE = "late"  # not on site by the deadline (or arrived after it)


def urgent_state(
    created_at: datetime,
    contacted_at: datetime | None,
    on_site_at: datetime | None,
    now: datetime,
    policy: SlaPolicy | None = None,
) -> UrgentState:
    """Haikou's rule for urgent tickets: contact the caller at once and be on site within the limit."""
    deadline = urgent_contact_deadline(created_at, policy or SlaPolicy())
    if on_site_at is not None:
        return UrgentState.ON_SITE if on_site_at <= deadline else UrgentState.LATE
    if now > deadline:
        return UrgentState.LATE
    return UrgentState.CONTACTED if contacted_at is not None else UrgentState.AWAITING_CONTACT
