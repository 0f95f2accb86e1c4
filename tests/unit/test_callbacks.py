from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from domain.callbacks import (
    CallbackAction,
    CallbackPolicy,
    CallbackReason,
    CallbackStatus,
    CallbackTask,
    IllegalStep,
    InvalidCallback,
    Outcome,
    allowed_actions,
    callable_number,
    cancel,
    check_may_call,
    claim,
    kept_place_call_ended,
    new_callback,
    record_attempt,
    task_for_call,
)
from domain.calls import CallRecord, CallTracker
from domain.tickets import Actor, Role

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
POLICY = CallbackPolicy(claim_timeout=timedelta(minutes=15), retry_after=timedelta(minutes=30), max_attempts=3)
AGENT = Actor("agent-1", Role.AGENT)
OTHER = Actor("agent-2", Role.AGENT)
SUPERVISOR = Actor("sup-1", Role.SUPERVISOR)
DEPARTMENT = Actor("dept-1", Role.DEPARTMENT, "zjj")


def task(**changes) -> CallbackTask:
    return dataclasses.replace(
        new_callback("13800138000", CallbackReason.ABANDONED, NOW, call_uniqueid="1.1"), **changes
    )


def claimed(by: Actor = AGENT, at: datetime = NOW) -> CallbackTask:
    return claim(task(), by, at, POLICY)


# --- which calls make a task ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "number"),
    [
        ("13800138000", "13800138000"),
        (" +8613800138000 ", "+8613800138000"),
        ("059187654321", "059187654321"),
        (None, None),
        ("", None),
        ("anonymous", None),
        ("unknown", None),
        ("Restricted", None),
        ("<unknown>", None),
        ("12", None),
        ("138-0013-8000", None),
    ],
)
def test_only_dialable_numbers_can_be_called_back(raw: str | None, number: str | None) -> None:
    assert callable_number(raw) == number


def record(**fields: Any) -> CallRecord:
    base: dict[str, Any] = dict(
        uniqueid="1700000000.7",
        caller="13912345678",
        started_at=NOW,
        route_action="queue",
        queue="hotline-general",
        queue_joined_at=NOW + timedelta(seconds=20),
    )
    return CallRecord(**base | fields)


def test_an_abandoned_call_makes_a_task_due_at_once() -> None:
    made = task_for_call(record(abandoned=True), NOW)
    assert made == CallbackTask(
        id=None,
        caller_number="13912345678",
        reason=CallbackReason.ABANDONED,
        created_at=NOW,
        due_at=NOW,
        call_uniqueid="1700000000.7",
        queue="hotline-general",
    )


def test_a_call_routed_to_a_queue_that_never_joined_it_is_missed() -> None:
    made = task_for_call(record(queue_joined_at=None), NOW)
    assert made is not None and made.reason is CallbackReason.MISSED
    fallback = task_for_call(record(queue_joined_at=None, agi_fallback=True), NOW)
    assert fallback is not None and fallback.reason is CallbackReason.MISSED


@pytest.mark.parametrize(
    "fields",
    [
        {"answered_at": NOW + timedelta(seconds=30), "agent": "8001"},
        # answered, then requeued (failed transfer) and abandoned there: the agent owns the follow-up
        {"answered_at": NOW + timedelta(seconds=30), "abandoned": True},
        {"route_action": "hangup", "queue": None, "queue_joined_at": None},  # barred caller refused by the IVR
        {"route_action": "transfer", "transfer_target": "110", "queue": None, "queue_joined_at": None},
        {"route_action": None, "queue": None, "queue_joined_at": None},  # hung up during the IVR
        {"abandoned": True, "caller": "anonymous"},
        {"abandoned": True, "caller": None},
    ],
)
def test_calls_that_need_no_callback(fields: dict) -> None:
    assert task_for_call(record(**fields), NOW) is None


def test_a_caller_hanging_up_in_the_queue_as_folded_by_the_tracker_is_abandoned() -> None:
    tracker, uid = CallTracker(), "1700000000.9"
    events = [
        {"Event": "UserEvent", "UserEvent": "HotlineCallStart", "Uniqueid": uid, "Caller": "13700001111"},
        {
            "Event": "UserEvent",
            "UserEvent": "HotlineRoute",
            "Uniqueid": uid,
            "Action": "queue",
            "Queue": "hotline-general",
        },
        {"Event": "QueueCallerJoin", "Uniqueid": uid, "Queue": "hotline-general"},
    ]
    for i, event in enumerate(events):
        assert tracker.feed(event, NOW + timedelta(seconds=i)) is None
    finished = tracker.feed(
        {"Event": "Hangup", "Uniqueid": uid, "Cause": "16", "Cause-txt": "Normal Clearing"}, NOW + timedelta(seconds=40)
    )
    assert finished is not None
    made = task_for_call(finished, NOW + timedelta(seconds=41))
    assert made is not None and (made.reason, made.caller_number) == (CallbackReason.ABANDONED, "13700001111")


def test_a_withheld_number_cannot_be_recorded_by_hand() -> None:
    with pytest.raises(InvalidCallback, match="anonymous"):
        new_callback("anonymous", CallbackReason.REQUESTED, NOW)


# --- claiming -------------------------------------------------------------------------------


def test_an_agent_claims_an_open_task() -> None:
    taken = claimed()
    assert (taken.status, taken.claimed_by, taken.claimed_at) == (CallbackStatus.CLAIMED, "agent-1", NOW)
    assert allowed_actions(taken, AGENT, NOW, POLICY) == [
        CallbackAction.CLAIM,
        CallbackAction.CALL,
        CallbackAction.ATTEMPT,
    ]


def test_a_fresh_claim_keeps_others_out_and_names_when_it_may_be_taken_over() -> None:
    taken = claimed()
    later = NOW + timedelta(minutes=14)
    with pytest.raises(IllegalStep) as raised:
        claim(taken, OTHER, later, POLICY)
    assert raised.value.allowed_actions == []
    assert "claimed by agent-1" in str(raised.value) and "09:15" in str(raised.value)
    for step in (
        lambda: record_attempt(taken, OTHER, Outcome.ANSWERED, "", later, POLICY),
        lambda: check_may_call(taken, OTHER, later, POLICY),
    ):
        with pytest.raises(IllegalStep):
            step()


def test_a_stale_claim_may_be_taken_over() -> None:
    taken = claimed()
    later = NOW + POLICY.claim_timeout
    assert allowed_actions(taken, OTHER, later, POLICY) == [CallbackAction.CLAIM]
    over = claim(taken, OTHER, later, POLICY)
    assert (over.claimed_by, over.claimed_at) == ("agent-2", later)
    with pytest.raises(IllegalStep):
        record_attempt(over, AGENT, Outcome.NO_ANSWER, "", later, POLICY)


def test_the_claimer_renews_a_claim() -> None:
    renewed = claim(claimed(), AGENT, NOW + timedelta(minutes=10), POLICY)
    assert renewed.claimed_at == NOW + timedelta(minutes=10)


def test_departments_have_no_part_in_callbacks() -> None:
    assert allowed_actions(task(), DEPARTMENT, NOW, POLICY) == []
    with pytest.raises(IllegalStep):
        claim(task(), DEPARTMENT, NOW, POLICY)


# --- attempts -------------------------------------------------------------------------------


def test_an_open_task_needs_a_claim_before_an_attempt() -> None:
    with pytest.raises(IllegalStep) as raised:
        record_attempt(task(), AGENT, Outcome.ANSWERED, "", NOW, POLICY)
    assert raised.value.allowed_actions == ["claim"] and "claim it first" in str(raised.value)


def test_an_answered_callback_is_done() -> None:
    at = NOW + timedelta(minutes=2)
    done = record_attempt(claimed(), AGENT, Outcome.ANSWERED, " 已答复 ", at, POLICY)
    assert done.status is CallbackStatus.DONE and done.finished_at == at
    assert [(a.by_user, a.outcome, a.note, a.at) for a in done.attempts] == [
        ("agent-1", Outcome.ANSWERED, "已答复", at)
    ]
    assert allowed_actions(done, SUPERVISOR, at, POLICY) == []


@pytest.mark.parametrize("outcome", [Outcome.NO_ANSWER, Outcome.BUSY, Outcome.FAILED])
def test_an_unanswered_attempt_puts_the_task_back_for_later(outcome: Outcome) -> None:
    at = NOW + timedelta(minutes=3)
    again = record_attempt(claimed(), AGENT, outcome, "", at, POLICY)
    assert (again.status, again.claimed_by, again.claimed_at) == (CallbackStatus.OPEN, None, None)
    assert again.due_at == at + POLICY.retry_after and again.finished_at is None
    assert claim(again, OTHER, at, POLICY).claimed_by == "agent-2"  # anyone may take the next try


def test_the_last_unanswered_attempt_fails_the_task() -> None:
    current, at = task(), NOW
    for _ in range(POLICY.max_attempts):
        at += POLICY.retry_after
        current = record_attempt(claim(current, AGENT, at, POLICY), AGENT, Outcome.NO_ANSWER, "", at, POLICY)
    assert current.status is CallbackStatus.FAILED and len(current.attempts) == 3 and current.finished_at == at
    with pytest.raises(IllegalStep) as raised:
        claim(current, AGENT, at, POLICY)
    assert raised.value.allowed_actions == [] and "status failed" in str(raised.value)


def test_max_attempts_follows_the_policy() -> None:
    once = CallbackPolicy(max_attempts=1)
    failed = record_attempt(claim(task(), AGENT, NOW, once), AGENT, Outcome.BUSY, "", NOW, once)
    assert failed.status is CallbackStatus.FAILED


# --- cancelling -----------------------------------------------------------------------------


def test_a_supervisor_cancels_with_a_reason() -> None:
    assert CallbackAction.CANCEL in allowed_actions(claimed(), SUPERVISOR, NOW, POLICY)
    cancelled = cancel(claimed(), SUPERVISOR, " 来电人已再次来电 ", NOW, POLICY)
    assert (cancelled.status, cancelled.cancelled_by, cancelled.cancel_reason) == (
        CallbackStatus.CANCELLED,
        "sup-1",
        "来电人已再次来电",
    )
    with pytest.raises(InvalidCallback):
        cancel(task(), SUPERVISOR, "  ", NOW, POLICY)


def test_an_agent_cannot_cancel() -> None:
    with pytest.raises(IllegalStep) as raised:
        cancel(task(), AGENT, "no need", NOW, POLICY)
    assert raised.value.allowed_actions == ["claim"]


# --- kept places ----------------------------------------------------------------------------


def kept_place() -> CallbackTask:
    return task(reason=CallbackReason.KEPT_PLACE, due_at=NOW + timedelta(hours=1))


def test_a_kept_place_answered_when_called_back_is_done() -> None:
    done = kept_place_call_ended(kept_place(), "ANSWER", NOW, POLICY)
    assert done is not None
    assert (done.status, done.finished_at) == (CallbackStatus.DONE, NOW)
    assert [(a.by_user, a.outcome) for a in done.attempts] == [("ivr-kept-place", Outcome.ANSWERED)]


@pytest.mark.parametrize(
    "dial_status, outcome",
    [("NOANSWER", Outcome.NO_ANSWER), ("BUSY", Outcome.BUSY), ("CHANUNAVAIL", Outcome.FAILED), ("", Outcome.FAILED)],
)
def test_a_kept_place_not_answered_goes_back_to_the_list(dial_status: str, outcome: Outcome) -> None:
    again = kept_place_call_ended(kept_place(), dial_status, NOW, POLICY)
    assert again is not None
    assert (again.status, again.claimed_by, again.due_at) == (CallbackStatus.OPEN, None, NOW + POLICY.retry_after)
    assert [a.outcome for a in again.attempts] == [outcome]


def test_only_open_kept_places_are_recorded() -> None:
    assert kept_place_call_ended(task(), "ANSWER", NOW, POLICY) is None  # an abandoned call's task
    taken = claim(kept_place(), AGENT, NOW, POLICY)
    assert kept_place_call_ended(taken, "ANSWER", NOW, POLICY) is None  # an agent's claim stands
    finished = kept_place_call_ended(kept_place(), "ANSWER", NOW, POLICY)
    assert finished is not None and kept_place_call_ended(finished, "ANSWER", NOW, POLICY) is None
