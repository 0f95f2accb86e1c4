from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from domain.callbacks import (
    CallbackPolicy,
    CallbackReason,
    CallbackStatus,
    Outcome,
    claim,
    new_callback,
    record_attempt,
)
from domain.calls import CallRecord
from domain.errors import ChangedMeanwhile
from domain.tickets import Actor, Role
from storage.call_records import save_call_record
from storage.callbacks import create_callback, create_callback_for_call, list_callbacks, load_callback, save_callback

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
POLICY = CallbackPolicy()
AGENT = Actor("agent-1", Role.AGENT)


def abandoned(uniqueid: str = "1700000000.1", caller: str | None = "13912345678") -> CallRecord:
    return CallRecord(
        uniqueid,
        caller=caller,
        started_at=NOW,
        route_action="queue",
        queue="hotline-general",
        queue_joined_at=NOW,
        ended_at=NOW + timedelta(seconds=40),
        abandoned=True,
    )


def test_a_task_round_trips_with_its_attempts(session: Session) -> None:
    stored = create_callback(
        session,
        new_callback(
            "13800138000", CallbackReason.REQUESTED, NOW, due_at=NOW + timedelta(hours=2), ticket_number="2026112300001"
        ),
    )
    assert stored is not None and stored.id is not None and stored.version == 1
    worked = record_attempt(claim(stored, AGENT, NOW, POLICY), AGENT, Outcome.BUSY, "忙音", NOW, POLICY)
    saved = save_callback(session, worked)
    session.expunge_all()
    assert load_callback(session, stored.id) == saved
    assert saved.version == 2 and saved.attempts[0].outcome is Outcome.BUSY and saved.due_at == NOW + POLICY.retry_after


def test_the_same_call_makes_one_task_however_often_its_record_is_saved(session: Session) -> None:
    record = abandoned()
    save_call_record(session, record)
    first = create_callback_for_call(session, record, NOW)
    save_call_record(session, record)  # replayed from the spool
    again = create_callback_for_call(session, record, NOW + timedelta(minutes=5))
    assert first is not None and first.reason is CallbackReason.ABANDONED and again is None
    assert [(t.id, t.call_uniqueid, t.created_at) for t in list_callbacks(session)] == [
        (first.id, record.uniqueid, NOW)
    ]


def test_calls_needing_no_callback_store_nothing(session: Session) -> None:
    answered = dataclasses.replace(abandoned("1700000000.2"), abandoned=False, answered_at=NOW, agent="8001")
    assert create_callback_for_call(session, answered, NOW) is None
    assert create_callback_for_call(session, abandoned("1700000000.3", caller="anonymous"), NOW) is None
    assert list_callbacks(session) == []


def test_requested_callbacks_without_a_call_are_each_new(session: Session) -> None:
    for _ in range(2):
        assert create_callback(session, new_callback("13800138000", CallbackReason.REQUESTED, NOW)) is not None
    with_call = new_callback("13800138000", CallbackReason.REQUESTED, NOW, call_uniqueid="1700000000.4")
    assert create_callback(session, with_call) is not None and create_callback(session, with_call) is None
    assert len(list_callbacks(session, status=CallbackStatus.OPEN)) == 3


def test_a_change_to_an_outdated_task_is_refused(session: Session) -> None:
    stored = create_callback_for_call(session, abandoned(), NOW)
    assert stored is not None and stored.id is not None
    save_callback(session, claim(stored, AGENT, NOW, POLICY))
    other = Actor("agent-2", Role.AGENT)
    with pytest.raises(ChangedMeanwhile, match="version 2, not 1"):
        save_callback(session, claim(stored, other, NOW, POLICY))  # based on the version before the claim
    assert (kept := load_callback(session, stored.id)) is not None and kept.claimed_by == "agent-1"


def test_the_list_puts_open_tasks_first_soonest_due_first(session: Session) -> None:
    def make(uid: str, due_in: timedelta):
        task = new_callback("13800138000", CallbackReason.MISSED, NOW, call_uniqueid=uid, due_at=NOW + due_in)
        return create_callback(session, task)

    _, _, claimed_one, done = (
        make("a", timedelta(hours=1)),
        make("b", -timedelta(minutes=5)),
        make("c", -timedelta(hours=1)),
        make("d", -timedelta(hours=2)),
    )
    save_callback(session, claim(claimed_one, AGENT, NOW, POLICY))
    save_callback(session, record_attempt(claim(done, AGENT, NOW, POLICY), AGENT, Outcome.ANSWERED, "", NOW, POLICY))
    assert [t.call_uniqueid for t in list_callbacks(session)] == ["b", "a", "c", "d"]
    assert [t.call_uniqueid for t in list_callbacks(session, status=CallbackStatus.OPEN, due_before=NOW)] == ["b"]
    assert [t.call_uniqueid for t in list_callbacks(session, limit=1)] == ["b"]
