import time
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from storage.barred_callers import BarredCallerSnapshot, bar_caller, barred_numbers, is_barred
from storage.database import make_engine, make_session_factory
from storage.tables import Base

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


def test_barred_numbers_lists_only_bars_in_force(session: Session) -> None:
    bar_caller(session, NUMBER, "harassment", "supervisor-07", FROM, UNTIL)
    bar_caller(session, "13800138002", "threats", "supervisor-07", UNTIL, UNTIL + timedelta(days=30))
    assert barred_numbers(session, FROM + timedelta(days=1)) == {NUMBER}
    assert barred_numbers(session, UNTIL) == {"13800138002"}


def test_snapshot_sees_new_bars_after_max_age_and_keeps_last_list_when_db_fails(tmp_path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'barred.db'}")
    Base.metadata.create_all(engine)
    sessions = make_session_factory(engine)
    now = datetime.now(UTC)
    with sessions.begin() as s:
        bar_caller(s, NUMBER, "harassment", "supervisor-07", now - timedelta(days=1), now + timedelta(days=29))
    snapshot = BarredCallerSnapshot(sessions, max_age=0.2)
    assert NUMBER in snapshot and "13800138009" not in snapshot

    with sessions.begin() as s:
        bar_caller(s, "13800138009", "threats", "supervisor-07", now - timedelta(days=1), now + timedelta(days=29))
    assert "13800138009" not in snapshot  # still the list loaded a moment ago
    time.sleep(0.25)
    assert "13800138009" in snapshot

    with engine.begin() as conn:
        conn.execute(text("DROP TABLE barred_callers"))
    time.sleep(0.25)
    with pytest.raises(OperationalError):
        NUMBER in snapshot  # noqa: B015  # the reload fails for this caller's check (which the IVR fails open) ...
    assert NUMBER in snapshot  # ... and the others keep the last list
