from datetime import UTC, datetime, timedelta, timezone

from sqlalchemy.orm import Session

from storage.barred_callers import bar_caller, is_barred

FROM = datetime(2024, 5, 1, 0, 0, tzinfo=UTC)
UNTIL = FROM + timedelta(days=30)
NUMBER = "13800138000"


def test_barred_window_edges(session: Session) -> None:
    bar_caller(session, NUMBER, "repeated abusive calls", "supervisor-07", FROM, UNTIL)
    assert not is_barred(session, NUMBER, FROM - timedelta(microseconds=1))
    assert is_barred(session, NUMBER, FROM)
    assert is_barred(session, NUMBER, FROM + timedelta(days=12))
    assert is_barred(session, NUMBER, UNTIL - timedelta(microseconds=1))
    assert not is_barred(session, NUMBER, UNTIL)


def test_other_numbers_are_not_barred(session: Session) -> None:
    bar_caller(session, NUMBER, "harassment", "supervisor-07", FROM, UNTIL)
    assert not is_barred(session, "13800138001", FROM + timedelta(days=1))


def test_window_is_compared_in_absolute_time(session: Session) -> None:
    bar_caller(session, NUMBER, "harassment", "supervisor-07", FROM, UNTIL)
    beijing = timezone(timedelta(hours=8))
    # 07:59 on 1 May in Beijing is 23:59 on 30 April UTC: before the bar.
    assert not is_barred(session, NUMBER, datetime(2024, 5, 1, 7, 59, tzinfo=beijing))
    assert is_barred(session, NUMBER, datetime(2024, 5, 1, 8, 0, tzinfo=beijing))


def test_any_matching_bar_counts(session: Session) -> None:
    bar_caller(session, NUMBER, "first", "supervisor-07", FROM, UNTIL)
    bar_caller(session, NUMBER, "second", "supervisor-09", UNTIL + timedelta(days=10), UNTIL + timedelta(days=40))
    assert not is_barred(session, NUMBER, UNTIL + timedelta(days=5))
    assert is_barred(session, NUMBER, UNTIL + timedelta(days=10))
