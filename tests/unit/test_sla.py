from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from domain.calendar import Holiday, Notice, Scope, WorkingCalendar
from domain.sla import (
    SlaPolicy,
    SlaState,
    UrgentState,
    add_working_days,
    after_working_time,
    deadline_for,
    sla_state,
    states_of,
    urgent_contact_deadline,
    urgent_state,
    working_days_between,
)
from domain.tickets import SHANGHAI, RequestType
from tests.calendars import SEEDED as CAL

UTC = ZoneInfo("UTC")
POLICY = SlaPolicy()


def sh(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0, micro: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, micro, tzinfo=SHANGHAI)


def end_of(year: int, month: int, day: int) -> datetime:
    return sh(year, month, day, 23, 59, 59, 999_999)


# 2024 National Day: Oct 1-7 off; Sun Sep 29 and Sat Oct 12 are make-up working days (调休).
# 2025 Spring Festival: Jan 28 - Feb 4 off; Sun Jan 26 and Sat Feb 8 are make-up working days.


def test_calendar_facts_the_tests_rely_on() -> None:
    assert CAL.is_workday(sh(2024, 9, 29).date()) and CAL.is_workday(sh(2024, 10, 12).date())
    assert not any(CAL.is_workday(sh(2024, 10, d).date()) for d in range(1, 8))
    assert CAL.is_workday(sh(2025, 1, 26).date()) and CAL.is_workday(sh(2025, 2, 8).date())
    assert not any(CAL.is_workday((sh(2025, 1, 28) + timedelta(days=i)).date()) for i in range(8))


def test_complaint_across_national_day() -> None:
    # Received Mon Sep 30 (working day): count from the next working day. Oct 1-7 off;
    # 1 Oct 8, 2 Oct 9, 3 Oct 10, 4 Oct 11, 5 Sat Oct 12 (调休), 6-10 Oct 14-18,
    # 11-15 Oct 21-25 -> end of Fri Oct 25.
    assert add_working_days(sh(2024, 9, 30, 10, 0), 15, CAL) == end_of(2024, 10, 25)


def test_consultation_received_on_saturday_counts_the_make_up_sunday() -> None:
    # Sat Sep 28 is off; 1 = Sun Sep 29 (调休), 2 = Mon Sep 30.
    assert add_working_days(sh(2024, 9, 28, 15, 0), 2, CAL) == end_of(2024, 9, 30)


def test_consultation_received_before_the_holiday() -> None:
    # Mon Sep 30: 1 = Oct 8, 2 = Oct 9.
    assert add_working_days(sh(2024, 9, 30, 23, 0), 2, CAL) == end_of(2024, 10, 9)


def test_help_request_across_spring_festival_2025() -> None:
    # Mon Jan 27 (working): Jan 28 - Feb 4 off; 1-3 Feb 5-7, 4 Sat Feb 8 (调休),
    # 5-9 Feb 10-14, 10 Mon Feb 17.
    assert add_working_days(sh(2025, 1, 27, 9, 0), 10, CAL) == end_of(2025, 2, 17)


def test_received_during_a_holiday_counts_from_the_first_working_day_after() -> None:
    # Thu Jan 30 2025 is in the Spring Festival: 1 = Feb 5, 2 = Feb 6.
    assert add_working_days(sh(2025, 1, 30, 11, 0), 2, CAL) == end_of(2025, 2, 6)


def test_start_is_taken_in_shanghai_time() -> None:
    # 16:30 UTC Oct 11 is 00:30 Sat Oct 12 in Shanghai (调休): 1 = Mon Oct 14, 2 = Oct 15.
    assert add_working_days(datetime(2024, 10, 11, 16, 30, tzinfo=UTC), 2, CAL) == end_of(2024, 10, 15)


def test_zero_days_is_the_end_of_the_start_day() -> None:
    assert add_working_days(sh(2024, 10, 3, 8, 0), 0, CAL) == end_of(2024, 10, 3)


def test_negative_days_and_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        add_working_days(sh(2024, 10, 8), -1, CAL)
    with pytest.raises(ValueError, match="timezone-aware"):
        add_working_days(datetime(2024, 10, 8), 1, CAL)


def test_a_year_without_a_notice_counts_weekends_only_and_is_provisional() -> None:
    # chinesecalendar 1.11 knows 2004-2026: 2030 has no notice yet. Fri Mar 1 2030: 1 = Mon Mar 4, 2 = Tue Mar 5.
    assert add_working_days(sh(2030, 3, 1), 2, CAL) == end_of(2030, 3, 5)
    assert working_days_between(sh(2003, 3, 1), sh(2003, 3, 4), CAL) == 1.0  # Sat, Sun off; Mon counts
    assert deadline_for(RequestType.CONSULTATION, False, sh(2030, 3, 1), POLICY, CAL).provisional


def test_a_late_december_complaint_gets_a_provisional_deadline_on_weekends_only() -> None:
    # Accepted Sun 2026-12-20: Dec 21-25 (5), Dec 28-31 (4), and 2027 unknown: Fri Jan 1 counts (10),
    # Jan 4-8 (15). Provisional: it moves once 2027's notice is entered.
    deadlines = deadline_for(RequestType.COMPLAINT, False, sh(2026, 12, 20, 10, 0), POLICY, CAL)
    assert deadlines.close_by == end_of(2027, 1, 8)
    assert deadlines.provisional


def test_a_deadline_within_confirmed_years_is_not_provisional() -> None:
    assert not deadline_for(RequestType.COMPLAINT, False, sh(2026, 11, 2, 10, 0), POLICY, CAL).provisional


def test_local_closed_days_are_off_on_top_of_the_national_notice() -> None:
    closed = Notice(
        2024, Scope.LOCAL, "市政府通知", (Holiday("城市纪念日", sh(2024, 10, 8).date(), sh(2024, 10, 8).date()),)
    )
    city = CAL.with_notice(closed)
    # Mon Sep 30: Oct 1-7 off and the city's Oct 8 too: 1 = Oct 9, 2 = Oct 10.
    assert add_working_days(sh(2024, 9, 30, 23, 0), 2, city) == end_of(2024, 10, 10)
    assert city.state(2024) == CAL.state(2024)  # a local notice confirms nothing


# --- working days between -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (sh(2024, 10, 8, 6, 0), sh(2024, 10, 8, 18, 0), 0.5),  # same working day
        (sh(2024, 10, 18, 17, 0), sh(2024, 10, 21, 9, 0), 16 / 24),  # Fri 17:00 -> Mon 09:00
        (sh(2024, 9, 27, 17, 0), sh(2024, 9, 30, 9, 0), 40 / 24),  # make-up Sun Sep 29 counts whole
        (sh(2024, 9, 30, 12, 0), sh(2024, 10, 8, 12, 0), 1.0),  # National Day does not count
        (sh(2024, 10, 2, 9, 0), sh(2024, 10, 5, 9, 0), 0.0),  # inside the holiday
        (sh(2024, 10, 8, 9, 0), sh(2024, 10, 8, 9, 0), 0.0),
    ],
)
def test_working_days_between(start: datetime, end: datetime, expected: float) -> None:
    assert working_days_between(start, end, CAL) == pytest.approx(expected)


def test_working_days_between_refuses_reversed_spans() -> None:
    with pytest.raises(ValueError, match="before start"):
        working_days_between(sh(2024, 10, 9), sh(2024, 10, 8), CAL)


# --- deadlines and states -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("request_type", "expected"),
    [
        (RequestType.CONSULTATION, end_of(2024, 10, 9)),
        (RequestType.HELP, end_of(2024, 10, 18)),
        (RequestType.SUGGESTION, end_of(2024, 10, 18)),
        (RequestType.COMPLAINT, end_of(2024, 10, 25)),
        (RequestType.REPORT, end_of(2024, 10, 25)),
    ],
)
def test_default_limits_per_type(request_type: RequestType, expected: datetime) -> None:
    # Received Mon Sep 30: 10 working days = Oct 8-12 (with 调休 Sat) + Oct 14-18.
    deadlines = deadline_for(request_type, False, sh(2024, 9, 30, 10, 0), POLICY, CAL)
    assert (deadlines.close_by, deadlines.contact_by, deadlines.provisional) == (expected, None, False)


def test_extension_days_extend_the_deadline() -> None:
    # 15 working days end Fri Oct 25; 5 more: Oct 28-31, Nov 1.
    deadlines = deadline_for(RequestType.COMPLAINT, False, sh(2024, 9, 30, 10, 0), POLICY, CAL, extension_days=5)
    assert deadlines.close_by == end_of(2024, 11, 1)


def test_urgent_ticket_also_has_a_contact_deadline() -> None:
    created = sh(2024, 10, 8, 10, 0)
    deadlines = deadline_for(RequestType.HELP, True, created, POLICY, CAL)
    assert deadlines.contact_by == sh(2024, 10, 8, 10, 30)
    assert deadlines.close_by == add_working_days(created, 10, CAL)


def test_city_policy_overrides_limits() -> None:
    city = SlaPolicy(limits={**POLICY.limits, RequestType.COMPLAINT: 5}, urgent_contact_minutes=20)
    deadlines = deadline_for(RequestType.COMPLAINT, True, sh(2024, 10, 8, 10, 0), city, CAL)
    assert (deadlines.close_by, deadlines.contact_by) == (
        end_of(2024, 10, 14),
        sh(2024, 10, 8, 10, 20),
    )  # Oct 9-12 (调休), 14
    assert SlaPolicy().limits[RequestType.COMPLAINT] == 15


CREATED = sh(2024, 9, 30, 10, 0)
COMPLAINT = deadline_for(RequestType.COMPLAINT, False, CREATED, POLICY, CAL)
DEADLINE = end_of(2024, 10, 25)  # complaint, see above


def test_the_warning_is_due_at_eighty_percent_of_the_working_time() -> None:
    # Working span: 14 h on Sep 30 + 15 days = 15.58; 80% = 12.47 working days, reached on
    # Tue Oct 22 at 21:12 (Sep 30 0.58 + 11 days to Oct 21 + 0.88 of Oct 22).
    assert COMPLAINT.close_by == DEADLINE
    assert sh(2024, 10, 22, 21, 11) < COMPLAINT.warn_at < sh(2024, 10, 22, 21, 13)


@pytest.mark.parametrize(
    ("now", "state"),
    [
        (CREATED, SlaState.OK),
        (sh(2024, 10, 22, 21, 0), SlaState.OK),
        (sh(2024, 10, 22, 21, 30), SlaState.WARNING),
        (DEADLINE, SlaState.WARNING),
        (sh(2024, 10, 26, 0, 0), SlaState.OVERDUE),
    ],
)
def test_sla_state(now: datetime, state: SlaState) -> None:
    assert sla_state(COMPLAINT.close_by, COMPLAINT.warn_at, now) is state


def test_holiday_does_not_bring_the_warning_forward() -> None:
    # 80% of the wall-clock span would be reached on Oct 21; by working time it is still OK.
    assert sla_state(COMPLAINT.close_by, COMPLAINT.warn_at, sh(2024, 10, 22, 9, 0)) is SlaState.OK


def test_warning_share_is_configurable() -> None:
    # Half of 15.58 is 7.79; by Wed Oct 16 09:00: 0.58 + 5 (Oct 8-12) + 2 (Oct 14-15) + 0.38 = 7.96.
    now = sh(2024, 10, 16, 9, 0)
    half = deadline_for(RequestType.COMPLAINT, False, CREATED, SlaPolicy(warning_share=0.5), CAL)
    assert sla_state(half.close_by, half.warn_at, now) is SlaState.WARNING
    assert sla_state(COMPLAINT.close_by, COMPLAINT.warn_at, now) is SlaState.OK


def test_after_working_time_skips_days_off() -> None:
    # Mon Sep 30 20:00 + 6 h of working time: 4 h that day, then Oct 1-7 off: Oct 8 02:00.
    assert after_working_time(sh(2024, 9, 30, 20, 0), timedelta(hours=6), CAL) == sh(2024, 10, 8, 2, 0)


def test_states_are_counted_with_their_provisional_mark() -> None:
    late = deadline_for(RequestType.COMPLAINT, False, sh(2026, 12, 20, 10, 0), POLICY, CAL)
    counts = states_of(
        [(COMPLAINT.close_by, COMPLAINT.warn_at, False), (late.close_by, late.warn_at, late.provisional)],
        sh(2024, 10, 23, 9, 0),
    )
    assert counts[SlaState.WARNING, False] == 1 and counts[SlaState.OK, True] == 1
    assert sum(counts.values()) == 2


def test_an_empty_calendar_is_provisional_everywhere() -> None:
    assert WorkingCalendar().state(2026) == "provisional"
    assert deadline_for(RequestType.CONSULTATION, False, CREATED, POLICY, WorkingCalendar()).provisional


# --- urgent tickets -------------------------------------------------------------------------

URGENT_AT = sh(2024, 10, 8, 10, 0)


def test_urgent_contact_deadline_is_thirty_minutes() -> None:
    assert urgent_contact_deadline(URGENT_AT, POLICY) == sh(2024, 10, 8, 10, 30)


@pytest.mark.parametrize(
    ("contacted", "on_site", "now", "state"),
    [
        (None, None, sh(2024, 10, 8, 10, 5), UrgentState.AWAITING_CONTACT),
        (sh(2024, 10, 8, 10, 2), None, sh(2024, 10, 8, 10, 20), UrgentState.CONTACTED),
        (sh(2024, 10, 8, 10, 2), sh(2024, 10, 8, 10, 30), sh(2024, 10, 8, 12, 0), UrgentState.ON_SITE),
        (sh(2024, 10, 8, 10, 2), sh(2024, 10, 8, 10, 31), sh(2024, 10, 8, 12, 0), UrgentState.LATE),
        (sh(2024, 10, 8, 10, 2), None, sh(2024, 10, 8, 10, 31), UrgentState.LATE),
        (None, None, sh(2024, 10, 8, 11, 0), UrgentState.LATE),
    ],
)
def test_urgent_state(contacted: datetime | None, on_site: datetime | None, now: datetime, state: UrgentState) -> None:
    assert urgent_state(URGENT_AT, contacted, on_site, now) is state


def test_urgent_state_follows_the_policy() -> None:
    city = SlaPolicy(urgent_contact_minutes=45)
    on_site, now = sh(2024, 10, 8, 10, 40), sh(2024, 10, 8, 11, 0)
    assert urgent_state(URGENT_AT, None, on_site, now) is UrgentState.LATE
    assert urgent_state(URGENT_AT, None, on_site, now, city) is UrgentState.ON_SITE
