from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import StatementError
from sqlalchemy.orm import Session

from domain.calls import CallRecord
from storage.call_records import get_call_record, list_call_records, save_call_record
from storage.tables import CallRecordRow

BEIJING = timezone(timedelta(hours=8))
T0 = datetime(2024, 5, 6, 17, 0, 0, 250000, tzinfo=BEIJING)


def full_record(uniqueid: str = "1715000000.42", started_at: datetime = T0) -> CallRecord:
    return CallRecord(
        uniqueid=uniqueid,
        caller="13912345678",
        started_at=started_at,
        ivr_path="main>1>2",
        route_action="queue",
        queue="hotline-general",
        priority=5,
        transfer_target=None,
        agi_fallback=True,
        queue_joined_at=started_at + timedelta(seconds=8),
        answered_at=started_at + timedelta(seconds=20),
        ended_at=started_at + timedelta(seconds=115),
        wait_seconds=12.0,
        agent="Zhang Wei",
        talk_seconds=95.5,
        hangup_cause="Normal Clearing",
        hangup_cause_code=16,
        abandoned=False,
    )


def reread(session: Session, uniqueid: str) -> CallRecord | None:
    session.flush()
    session.expire_all()
    return get_call_record(session, uniqueid)


def test_round_trip_returns_aware_utc_datetimes(session: Session) -> None:
    record = full_record()
    save_call_record(session, record)
    loaded = reread(session, record.uniqueid)
    assert loaded == record
    assert loaded is not None and loaded.started_at is not None
    assert loaded.started_at.utcoffset() == timedelta(0)
    assert loaded.started_at == datetime(2024, 5, 6, 9, 0, 0, 250000, tzinfo=UTC)


def test_round_trip_of_sparse_record(session: Session) -> None:
    record = CallRecord(uniqueid="1715000000.7")
    save_call_record(session, record)
    assert reread(session, record.uniqueid) == record


def test_get_unknown_uniqueid(session: Session) -> None:
    assert get_call_record(session, "nope") is None


def test_saving_again_updates_instead_of_duplicating(session: Session) -> None:
    record = full_record()
    save_call_record(session, record)
    session.flush()
    updated = replace(record, talk_seconds=100.0, agent="Li Na", hangup_cause="User busy", hangup_cause_code=17)
    save_call_record(session, updated)
    save_call_record(session, updated)
    assert reread(session, record.uniqueid) == updated
    assert session.scalar(select(func.count()).select_from(CallRecordRow)) == 1


def test_list_is_newest_first_and_limited(session: Session) -> None:
    for n, minutes in enumerate([5, 0, 10, 3]):
        save_call_record(session, full_record(f"1715000000.{n}", T0 + timedelta(minutes=minutes)))
    session.flush()
    session.expire_all()
    listed = list_call_records(session)
    assert [r.uniqueid for r in listed] == ["1715000000.2", "1715000000.0", "1715000000.3", "1715000000.1"]
    assert [r.uniqueid for r in list_call_records(session, limit=2)] == ["1715000000.2", "1715000000.0"]


def test_naive_datetimes_are_refused(session: Session) -> None:
    save_call_record(session, full_record(started_at=datetime(2024, 5, 6, 9, 0)))
    with pytest.raises(StatementError, match="naive datetime"):
        session.flush()
