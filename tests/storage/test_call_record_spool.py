"""A database outage and a recorder restart lose no call record: records wait in the durable spool."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

from prometheus_client import REGISTRY
from sqlalchemy import text

from domain.calls import CallRecord
from storage.call_records import get_call_record, save_call_record
from storage.database import make_engine, make_session_factory
from storage.migrate import upgrade_database
from storage.spool import DurableSpool
from telephony.call_events import CallRecorder

AT = datetime(2026, 11, 21, 8, 0, tzinfo=UTC)


def events_of_one_call(uniqueid: str) -> list[dict[str, str]]:
    return [
        {"Event": "UserEvent", "UserEvent": "HotlineCallStart", "Uniqueid": uniqueid, "Caller": "13800138000"},
        {"Event": "QueueCallerJoin", "Uniqueid": uniqueid, "Queue": "hotline-general"},
        {"Event": "Hangup", "Uniqueid": uniqueid, "Cause": "16", "Cause-txt": "Normal Clearing"},
    ]


async def feed(recorder: CallRecorder, events: list[dict[str, str]]) -> None:
    queue: asyncio.Queue = asyncio.Queue()
    for event in events:
        queue.put_nowait(event)
    task = asyncio.create_task(recorder.run(queue))
    while not queue.empty():
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.2)
    task.cancel()


async def test_records_survive_a_database_outage_and_a_restart(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'calls.db'}"
    upgrade_database(url)
    engine = make_engine(url)
    sessions = make_session_factory(engine)

    def save(record: CallRecord) -> None:
        with sessions.begin() as session:
            save_call_record(session, record)

    abandoned_before = REGISTRY.get_sample_value("hotline_calls_abandoned_total") or 0.0
    with engine.begin() as conn:  # the database "goes down": its table is gone
        conn.execute(text("ALTER TABLE call_records RENAME TO call_records_away"))
    spool = DurableSpool(tmp_path / "spool")
    await feed(CallRecorder(save, spool), events_of_one_call("a.1") + events_of_one_call("a.2"))
    assert len(spool.pending()) == 2  # accepted, kept on disk
    assert REGISTRY.get_sample_value("hotline_call_records_spooled") == 2
    assert REGISTRY.get_sample_value("hotline_calls_abandoned_total") == abandoned_before + 2

    with engine.begin() as conn:  # back up
        conn.execute(text("ALTER TABLE call_records_away RENAME TO call_records"))
    await feed(CallRecorder(save, DurableSpool(tmp_path / "spool")), [])  # a new process replays the spool
    assert spool.pending() == []
    assert REGISTRY.get_sample_value("hotline_call_records_spooled") == 0
    with sessions() as session:
        assert (first := get_call_record(session, "a.1")) is not None and first.queue == "hotline-general"
        assert (second := get_call_record(session, "a.2")) is not None and second.caller == "13800138000"
