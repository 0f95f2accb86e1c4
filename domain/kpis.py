"""The figures a 12345 centre reports, computed from ticket and call facts. Pure."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from statistics import fmean
from typing import Any

from domain.calls import CallRecord

OPEN_STATUSES_EXCLUDED = frozenset({"draft", "not_accepted", "merged"})
CLOSED_STATUSES = frozenset({"closed", "answered_on_spot"})
DEFAULT_SATISFIED = frozenset({"very_satisfied", "satisfied", "basically_satisfied"})
ANSWER_TARGET_SECONDS = 15.0


@dataclass(frozen=True)
class TicketFacts:
    """What reports need of one ticket."""

    number: str
    request_type: str
    status: str
    district: str | None
    street: str | None
    units: tuple[str, ...]
    created_at: datetime
    deadline_at: datetime | None
    closed_at: datetime | None
    satisfaction: str | None


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def ticket_kpis(
    tickets: Iterable[TicketFacts],
    working_days_between: Callable[[datetime, datetime], float],
    satisfied: frozenset[str] = DEFAULT_SATISFIED,
) -> dict[str, float | int | None]:
    """received, on-the-spot rate, completion (办结率), timely (及时办理率), satisfaction (share of
    `satisfied` levels among visited tickets), return-visit rate, average handling working days."""
    counted = [t for t in tickets if t.status not in OPEN_STATUSES_EXCLUDED]
    closed = [(t, t.closed_at) for t in counted if t.status in CLOSED_STATUSES and t.closed_at is not None]
    timely = [t for t, at in closed if t.deadline_at is None or at <= t.deadline_at]
    handled = [(t, at) for t, at in closed if t.status == "closed"]
    visited = [t for t in counted if t.satisfaction is not None]
    return {
        "received": len(counted),
        "on_the_spot_rate": _rate(sum(t.status == "answered_on_spot" for t in counted), len(counted)),
        "completion_rate": _rate(len(closed), len(counted)),
        "timely_rate": _rate(len(timely), len(closed)),
        "satisfaction_rate": _rate(sum(t.satisfaction in satisfied for t in visited), len(visited)),
        "return_visit_rate": _rate(len(visited), len(handled)),
        "average_handling_working_days": (
            round(fmean(working_days_between(t.created_at, at) for t, at in handled), 2) if handled else None
        ),
    }


def call_kpis(calls: Iterable[CallRecord]) -> dict[str, float | int | None]:
    """Connection rate (接通率: answered among queued calls), answered within 15 s, abandonment,
    average wait and talk time in seconds."""
    queued = [c for c in calls if c.queue_joined_at is not None or c.answered_at is not None]
    answered = [c for c in queued if c.answered_at is not None]
    waits = [c.wait_seconds for c in answered if c.wait_seconds is not None]
    talks = [c.talk_seconds for c in answered if c.talk_seconds is not None]
    return {
        "calls_queued": len(queued),
        "calls_answered": len(answered),
        "connection_rate": _rate(len(answered), len(queued)),
        "answered_within_15s_rate": _rate(sum(w <= ANSWER_TARGET_SECONDS for w in waits), len(queued)),
        "abandonment_rate": _rate(sum(c.abandoned for c in queued), len(queued)),
        "average_wait_seconds": round(fmean(waits), 1) if waits else None,
        "average_talk_seconds": round(fmean(talks), 1) if talks else None,
    }


@dataclass(frozen=True)
class HotSpot:
    request_type: str
    place: str
    today: int
    yesterday: int

    @property
    def rise(self) -> int:
        return self.today - self.yesterday


def _place(t: TicketFacts) -> str:
    return "".join(p for p in (t.district, t.street) if p) or "未知"


def daily_report(
    day: date, today: Sequence[TicketFacts], yesterday: Sequence[TicketFacts], top: int = 5
) -> dict[str, Any]:
    """日报: volumes, top types, top places, and the largest day-over-day rises of one type in one
    place (weak signals)."""
    now = Counter((t.request_type, _place(t)) for t in today)
    before = Counter((t.request_type, _place(t)) for t in yesterday)
    rises = sorted(
        (HotSpot(kind, place, n, before[(kind, place)]) for (kind, place), n in now.items()),
        key=lambda h: (-h.rise, -h.today, h.request_type, h.place),
    )
    return {
        "day": day.isoformat(),
        "received": len(today),
        "received_yesterday": len(yesterday),
        "top_types": Counter(t.request_type for t in today).most_common(top),
        "top_places": Counter(_place(t) for t in today).most_common(top),
        "hot_spots": [
            {"type": h.request_type, "place": h.place, "today": h.today, "yesterday": h.yesterday, "rise": h.rise}
            for h in rises[:top]
            if h.rise > 0
        ],
    }
