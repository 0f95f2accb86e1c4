"""The working calendar: the shipped 2026 notice and the seeded years against chinesecalendar, day
by day; provisional years; local closed days; which notice is due; and what a new notice does to
deadlines (the same plan the preview shows and the import applies)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from importlib.resources import files
from pathlib import Path

import chinese_calendar
import pytest

from domain.calendar import Holiday, Notice, Scope, WorkingCalendar, YearState, missing_years
from domain.calendar_notice import parse_notice_text
from domain.deadline_moves import deadline_moves, summarise
from domain.sla import SlaPolicy, deadline_for
from domain.tickets import SHANGHAI, Channel, RequestType, Ticket
from storage.calendar_seed import chinese_calendar_notices
from tests.calendars import SEEDED

SHIPPED_2026 = files("domain") / "calendars" / "2026.yaml"
TEST_2027 = Path(__file__).parents[1] / "data" / "calendar-2027.yaml"


def days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def test_the_shipped_2026_notice_equals_chinesecalendar_day_by_day() -> None:
    notice = parse_notice_text(SHIPPED_2026.read_text(encoding="utf-8"))
    calendar = WorkingCalendar.of([notice])
    assert notice.year == 2026 and notice.scope is Scope.NATIONAL
    differing = [
        d
        for d in days(date(2026, 1, 1), date(2026, 12, 31))
        if calendar.is_workday(d) != chinese_calendar.is_workday(d)
    ]
    assert differing == []
    assert len(notice.days_off()) == 33 and len(notice.make_up_workdays()) == 6


def test_every_seeded_year_equals_chinesecalendar_day_by_day() -> None:
    notices = chinese_calendar_notices()
    assert [n.year for n in notices] == list(range(2004, 2027))
    calendar = WorkingCalendar.of(notices)
    differing = [
        d
        for d in days(date(2004, 1, 1), date(2026, 12, 31))
        if calendar.is_workday(d) != chinese_calendar.is_workday(d)
    ]
    assert differing == []


def test_a_year_without_a_national_notice_is_provisional_weekends_off() -> None:
    assert SEEDED.state(2026) is YearState.CONFIRMED
    assert SEEDED.state(2027) is YearState.PROVISIONAL
    week = days(date(2027, 1, 1), date(2027, 1, 7))  # Fri .. Thu
    assert [SEEDED.is_workday(d) for d in week] == [True, False, False, True, True, True, True]


def test_entering_a_notice_confirms_its_year_only() -> None:
    with_2027 = SEEDED.with_notice(parse_notice_text(TEST_2027.read_text(encoding="utf-8")))
    assert with_2027.state(2027) is YearState.CONFIRMED and with_2027.state(2028) is YearState.PROVISIONAL
    assert not with_2027.is_workday(date(2027, 1, 1))  # 元旦
    assert with_2027.is_workday(date(2027, 1, 31))  # a make-up Sunday
    assert with_2027.confirmed_until(date(2026, 12, 7)) == date(2027, 12, 31)
    assert SEEDED.confirmed_until(date(2026, 12, 7)) == date(2026, 12, 31)
    assert SEEDED.confirmed_until(date(2027, 1, 4)) is None


def test_local_closed_days_close_even_a_make_up_saturday_and_confirm_nothing() -> None:
    closed = Notice(2026, Scope.LOCAL, "市政府通知", (Holiday("市庆", date(2026, 10, 10), date(2026, 10, 12)),))
    city = SEEDED.with_notice(closed)
    assert SEEDED.is_workday(date(2026, 10, 10)) and not city.is_workday(date(2026, 10, 10))
    assert not city.is_workday(date(2026, 10, 12))
    local_only = WorkingCalendar.of(
        [Notice(2030, Scope.LOCAL, "x", (Holiday("y", date(2030, 3, 4), date(2030, 3, 4)),))]
    )
    assert local_only.state(2030) is YearState.PROVISIONAL and not local_only.is_workday(date(2030, 3, 4))


@pytest.mark.parametrize(
    ("today", "missing"),
    [
        (date(2026, 10, 31), []),
        (date(2026, 11, 1), [2027]),  # the State Council publishes in November or December
        (date(2026, 12, 7), [2027]),
        (date(2027, 1, 4), [2027]),  # this year itself provisional, all year
        (date(2027, 11, 2), [2027, 2028]),
    ],
)
def test_which_notice_is_due(today: date, missing: list[int]) -> None:
    assert missing_years(SEEDED, today) == missing


# --- what a new notice does to deadlines ------------------------------------------------------

POLICY = SlaPolicy()


def ticket(number: str, created: datetime, request_type: RequestType = RequestType.COMPLAINT) -> Ticket:
    return Ticket(
        number=number,
        created_at=created,
        request_type=request_type,
        channel=Channel.PHONE,
        content="路灯不亮已经一个月了",
    )


def stored(t: Ticket, calendar: WorkingCalendar = SEEDED):
    return t, deadline_for(t.request_type, t.urgent, t.created_at, POLICY, calendar, t.extension_days)


def test_confirming_2027_moves_a_late_december_complaint_by_its_new_days_off() -> None:
    # Accepted Sun 2026-12-20, 15 working days: provisionally Fri 2027-01-08 (Jan 1 counted as a
    # weekday); with 2027's notice Jan 1 is off, so the 15th working day is Mon 2027-01-11.
    late = ticket("2026122000001", datetime(2026, 12, 20, 10, 0, tzinfo=SHANGHAI))
    early = ticket("2026110200001", datetime(2026, 11, 2, 10, 0, tzinfo=SHANGHAI))  # all in 2026: unmoved
    with_2027 = SEEDED.with_notice(parse_notice_text(TEST_2027.read_text(encoding="utf-8")))
    moves = deadline_moves([stored(late), stored(early)], with_2027, POLICY)
    assert [m.number for m in moves] == [late.number]
    (move,) = moves
    assert move.before is not None and move.before.provisional
    assert move.before.close_by.date() == date(2027, 1, 8) and move.after.close_by.date() == date(2027, 1, 11)
    assert not move.after.provisional and move.shift_days == 3
    assert "2027-01-08 → 2027-01-11" in move.audit_note("2027年节假日安排第1版")
    summary = summarise(moves, rechecked=2, provisional_before=1)
    assert (summary.deadlines_moved, summary.by_shift_days, summary.provisional_after) == (1, {3: 1}, 0)


def test_a_ticket_stored_without_a_deadline_gets_one() -> None:
    t = ticket("2026121100001", datetime(2026, 12, 11, 9, 0, tzinfo=SHANGHAI))
    (move,) = deadline_moves([(t, None)], SEEDED, POLICY)
    assert move.before is None and move.deadline_moved and move.shift_days is None
    assert move.after.provisional and move.after.close_by.date() == date(2027, 1, 1)
    summary = summarise([move], rechecked=1, provisional_before=0)
    assert (summary.deadlines_set, summary.provisional_after) == (1, 1)
