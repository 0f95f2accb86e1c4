"""Time limits (限时办结) in the centre's working days, with early warnings (预警).

Working days come from the centre's working calendar (domain.calendar): holidays off, make-up
working weekends (调休) on. A limit that runs into a year whose notice has not been entered yet is
counted on that year's weekends only and marked provisional; it moves when the year is confirmed."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum

from domain.calendar import WorkingCalendar
from domain.tickets import SHANGHAI, RequestType

DEFAULT_LIMITS: Mapping[RequestType, int] = {
    RequestType.CONSULTATION: 2,
    RequestType.HELP: 10,
    RequestType.SUGGESTION: 10,
    RequestType.COMPLAINT: 15,
    RequestType.REPORT: 15,
}
DAY = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class SlaPolicy:
    """A city's limits (defaults: Huizhou's time limits, Haikou's 30 minutes for urgent tickets)."""

    limits: Mapping[RequestType, int] = field(default_factory=lambda: dict(DEFAULT_LIMITS))
    warning_share: float = 0.8
    urgent_contact_minutes: int = 30


def _local(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("datetimes must be timezone-aware")
    return moment.astimezone(SHANGHAI)


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=SHANGHAI)


def _end_of(day: date) -> datetime:
    return datetime.combine(day, time.max, tzinfo=SHANGHAI)


def add_working_days(start: datetime, days: int, calendar: WorkingCalendar) -> datetime:
    """End (23:59:59.999999 Shanghai) of the `days`-th working day after the start's day.

    Counting starts the day after the start, so a request received on a working day counts
    from the next working day and one received on a holiday from the first working day after.
    `days=0` gives the end of the start's own day."""
    if days < 0:
        raise ValueError("days must not be negative")
    day = _local(start).date()
    counted = 0
    while counted < days:
        day += DAY
        if calendar.is_workday(day):
            counted += 1
    return _end_of(day)


def working_days_between(start: datetime, end: datetime, calendar: WorkingCalendar) -> float:
    """Elapsed time that falls on working days (Shanghai calendar days), in days of 24 hours.

    Fri 17:00 to Mon 09:00 is 7 h + 9 h = 0.67 working days; time on weekends and holidays does
    not count. Used for average handling time and warnings."""
    start, end = _local(start), _local(end)
    if end < start:
        raise ValueError("end is before start")
    total = timedelta()
    day = start.date()
    while day <= end.date():
        if calendar.is_workday(day):
            total += min(end, _start_of(day) + DAY) - max(start, _start_of(day))
        day += DAY
    return total / DAY


def after_working_time(start: datetime, amount: timedelta, calendar: WorkingCalendar) -> datetime:
    """The moment at which `amount` of working time has passed since `start`."""
    start = _local(start)
    day, left = start.date(), amount
    while True:
        if calendar.is_workday(day):
            begin = max(start, _start_of(day))
            available = _start_of(day) + DAY - begin
            if left <= available:
                return begin + left
            left -= available
        day += DAY


@dataclass(frozen=True, slots=True)
class Deadlines:
    close_by: datetime
    warn_at: datetime  # once `warning_share` of the working time up to close_by has passed
    provisional: bool  # counted on days of a year not yet confirmed: moves when it is
    contact_by: datetime | None = None  # urgent tickets only


def deadline_for(
    ticket_type: RequestType,
    urgent: bool,
    created_at: datetime,
    policy: SlaPolicy,
    calendar: WorkingCalendar,
    extension_days: int = 0,
) -> Deadlines:
    """The time limit, plus approved extension days, and when to warn; urgent tickets also get a
    contact deadline.

    The warning is counted in working time rather than wall-clock time, so a holiday inside the
    span does not set it off early."""
    close_by = add_working_days(created_at, policy.limits[ticket_type] + extension_days, calendar)
    span = working_days_between(created_at, close_by, calendar) * DAY
    return Deadlines(
        close_by=close_by,
        warn_at=after_working_time(created_at, span * policy.warning_share, calendar),
        provisional=calendar.spans_provisional(_local(created_at).date(), close_by.date()),
        contact_by=urgent_contact_deadline(created_at, policy) if urgent else None,
    )


class SlaState(StrEnum):
    OK = "ok"
    WARNING = "warning"
    OVERDUE = "overdue"


def sla_state(close_by: datetime, warn_at: datetime, now: datetime) -> SlaState:
    if now > close_by:
        return SlaState.OVERDUE
    return SlaState.WARNING if now >= warn_at else SlaState.OK


def states_of(deadlines: Iterable[tuple[datetime, datetime, bool]], now: datetime) -> Counter[tuple[SlaState, bool]]:
    """How many open tickets, given as (close_by, warn_at, provisional), are in each (state, provisional)."""
    counts: Counter[tuple[SlaState, bool]] = Counter({(s, p): 0 for s in SlaState for p in (False, True)})
    for close_by, warn_at, provisional in deadlines:
        counts[sla_state(close_by, warn_at, now), provisional] += 1
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
