from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from domain.calls import CallRecord
from domain.kpis import TicketFacts, call_kpis, daily_report, ticket_kpis

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def ticket(
    n: int,
    status: str,
    kind: str = "complaint",
    closed_after_days: float | None = None,
    deadline_days: float = 10,
    satisfaction: str | None = None,
    district: str = "鼓楼区",
    street: str = "东街街道",
) -> TicketFacts:
    closed = T0 + timedelta(days=closed_after_days) if closed_after_days is not None else None
    return TicketFacts(
        f"2026110200{n:03d}",
        kind,
        status,
        district,
        street,
        ("zjj",),
        T0,
        T0 + timedelta(days=deadline_days),
        closed,
        satisfaction,
    )


def calendar_days(a: datetime, b: datetime) -> float:
    return (b - a).total_seconds() / 86400


def test_ticket_kpis_count_what_each_rate_is_defined_over() -> None:
    tickets = [
        ticket(1, "answered_on_spot", "consultation", closed_after_days=0),
        ticket(2, "closed", closed_after_days=4, satisfaction="satisfied"),
        ticket(3, "closed", closed_after_days=12, satisfaction="unsatisfied"),  # late
        ticket(4, "closed", closed_after_days=2),  # not visited yet
        ticket(5, "dispatched"),
        ticket(6, "not_accepted"),  # not counted
        ticket(7, "draft"),  # not counted
    ]
    kpis = ticket_kpis(tickets, calendar_days)
    assert kpis["received"] == 5
    assert kpis["on_the_spot_rate"] == 0.2
    assert kpis["completion_rate"] == 0.8  # 4 of 5
    assert kpis["timely_rate"] == 0.75  # 3 of 4 closed in time
    assert kpis["satisfaction_rate"] == 0.5
    assert kpis["return_visit_rate"] == round(2 / 3, 4)
    assert kpis["average_handling_working_days"] == 6.0  # (4 + 12 + 2) / 3


def test_satisfaction_definition_is_configurable() -> None:
    tickets = [ticket(1, "closed", closed_after_days=1, satisfaction="basically_satisfied")]
    assert ticket_kpis(tickets, calendar_days)["satisfaction_rate"] == 1.0
    strict = frozenset({"very_satisfied", "satisfied"})
    assert ticket_kpis(tickets, calendar_days, satisfied=strict)["satisfaction_rate"] == 0.0


def test_empty_periods_give_none_not_zero_division() -> None:
    kpis = ticket_kpis([], calendar_days)
    assert kpis["received"] == 0 and kpis["completion_rate"] is None


def call(
    uid: str, wait: float | None, answered: bool, abandoned: bool = False, talk: float | None = None
) -> CallRecord:
    return CallRecord(
        uid,
        queue_joined_at=T0,
        answered_at=T0 if answered else None,
        wait_seconds=wait,
        abandoned=abandoned,
        talk_seconds=talk,
    )


def test_call_kpis() -> None:
    calls = [
        call("1", 3, True, talk=120),
        call("2", 20, True, talk=60),
        call("3", 40, False, abandoned=True),
        CallRecord("4", route_action="transfer", transfer_target="110"),  # never queued: not counted
    ]
    kpis = call_kpis(calls)
    assert kpis["calls_queued"] == 3 and kpis["calls_answered"] == 2
    assert kpis["connection_rate"] == round(2 / 3, 4)
    assert kpis["answered_within_15s_rate"] == round(1 / 3, 4)
    assert kpis["abandonment_rate"] == round(1 / 3, 4)
    assert kpis["average_wait_seconds"] == 11.5 and kpis["average_talk_seconds"] == 90.0


def test_daily_report_finds_the_largest_rise_of_one_type_in_one_place() -> None:
    yesterday = [ticket(i, "dispatched", "complaint", district="鼓楼区", street="东街街道") for i in range(2)]
    today = [ticket(10 + i, "dispatched", "complaint", district="鼓楼区", street="东街街道") for i in range(3)] + [
        ticket(20 + i, "dispatched", "help", district="台江区", street="洋中街道") for i in range(4)
    ]
    report = daily_report(date(2026, 11, 2), today, yesterday)
    assert report["received"] == 7 and report["received_yesterday"] == 2
    assert report["top_types"][0] == ("help", 4)
    assert report["hot_spots"][0] == {"type": "help", "place": "台江区洋中街道", "today": 4, "yesterday": 0, "rise": 4}
    assert report["hot_spots"][1]["rise"] == 1
