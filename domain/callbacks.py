"""Callback tasks (回拨): the centre calls back callers it missed — abandoned and missed calls,
voice messages, and callers who asked for a call — as pure rules.

A task is claimed by one agent at a time, who calls and records each attempt: answered closes
it, anything else puts it back on the list for a later try until the attempts run out."""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from domain.calls import CallRecord
from domain.errors import Conflict, Invalid
from domain.tickets import Actor, Role


class CallbackReason(StrEnum):
    ABANDONED = "abandoned"  # hung up while waiting in the queue
    MISSED = "missed"  # sent to the queue, never answered, not counted as abandoned
    VOICE_MESSAGE = "voice_message"
    REQUESTED = "requested"  # the caller asked for a call (recorded by an agent)
    KEPT_PLACE = "kept_place"  # took the IVR's offer: a stand-in waits in the queue, then calls them back


class CallbackStatus(StrEnum):
    OPEN = "open"
    CLAIMED = "claimed"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


class CallbackAction(StrEnum):
    CLAIM = "claim"
    CALL = "call"
    ATTEMPT = "attempt"
    CANCEL = "cancel"


class Outcome(StrEnum):
    ANSWERED = "answered"
    NO_ANSWER = "no_answer"
    BUSY = "busy"
    FAILED = "failed"


FINISHED_STATUSES = frozenset({CallbackStatus.DONE, CallbackStatus.FAILED, CallbackStatus.CANCELLED})
CALLBACK_ROLES = frozenset({Role.AGENT, Role.SUPERVISOR})


@dataclass(frozen=True, slots=True)
class CallbackPolicy:
    claim_timeout: timedelta = timedelta(minutes=15)  # a claim this old may be taken over
    retry_after: timedelta = timedelta(minutes=30)
    max_attempts: int = 3


@dataclass(frozen=True, slots=True)
class CallbackAttempt:
    at: datetime
    by_user: str
    outcome: Outcome
    note: str = ""


@dataclass(frozen=True, slots=True)
class CallbackTask:
    id: int | None  # None until stored
    caller_number: str
    reason: CallbackReason
    created_at: datetime
    due_at: datetime
    call_uniqueid: str | None = None
    ticket_number: str | None = None
    queue: str | None = None
    status: CallbackStatus = CallbackStatus.OPEN
    claimed_by: str | None = None
    claimed_at: datetime | None = None
    attempts: tuple[CallbackAttempt, ...] = ()
    cancelled_by: str | None = None
    cancel_reason: str | None = None
    finished_at: datetime | None = None
    version: int = 0  # storage's optimistic-lock counter; 0 until stored


# --- errors ---------------------------------------------------------------------------------


class IllegalStep(Conflict):
    code = "illegal_callback_step"

    def __init__(self, task: CallbackTask, action: CallbackAction, allowed: list[CallbackAction], why: str) -> None:
        self.status = task.status
        self.action = action
        self.allowed_actions = [str(a) for a in allowed]
        listed = ", ".join(self.allowed_actions) or "none"
        super().__init__(f"cannot {action} callback {task.id} ({why}); allowed for you: {listed}")

    def fields(self) -> dict[str, Any]:
        return {"allowed_actions": self.allowed_actions}


class InvalidCallback(Invalid):
    code = "invalid_callback"


# --- creating tasks -------------------------------------------------------------------------

_DIALABLE = re.compile(r"\+?[0-9]{3,20}")


def callable_number(raw: str | None) -> str | None:
    """The number to dial back, or None for a withheld or unusable caller ID ("", "anonymous",
    "unknown", "Restricted" …): only digits, optionally after a '+', can be called."""
    number = (raw or "").strip()
    return number if _DIALABLE.fullmatch(number) else None


def new_callback(
    caller_number: str | None,
    reason: CallbackReason,
    now: datetime,
    *,
    due_at: datetime | None = None,
    call_uniqueid: str | None = None,
    ticket_number: str | None = None,
    queue: str | None = None,
) -> CallbackTask:
    number = callable_number(caller_number)
    if number is None:
        raise InvalidCallback(f"caller number {caller_number!r} cannot be called back")
    return CallbackTask(
        id=None,
        caller_number=number,
        reason=reason,
        created_at=now,
        due_at=due_at or now,
        call_uniqueid=call_uniqueid,
        ticket_number=ticket_number,
        queue=queue,
    )


def call_reason(record: CallRecord) -> CallbackReason | None:
    """Why a finished call needs a callback, if it does.

    - An agent answered it (answered_at set): no callback, even if the caller was requeued later
      and hung up there — the agent spoke to the caller and owns the follow-up.
    - abandoned: the caller hung up in the queue (the tracker sets it from QueueCallerAbandon, or
      at hangup when a queued call was never answered).
    - missed: the dialplan sent the call to a queue (route_action "queue", including the AGI
      fallback) but it was neither answered nor abandoned — it ended before or while joining the
      queue, so the caller never got an agent.
    Calls that ended in the IVR before a route was decided, calls transferred by the IVR, and
    callers refused by it (barred: route_action "hangup") get no callback."""
    if record.answered_at is not None:
        return None
    if record.abandoned:
        return CallbackReason.ABANDONED
    if record.route_action == "queue":
        return CallbackReason.MISSED
    return None


def task_for_call(record: CallRecord, now: datetime) -> CallbackTask | None:
    """The callback a finished call needs, due at once; None if it needs none or the caller's
    number was withheld."""
    reason = call_reason(record)
    if reason is None or callable_number(record.caller) is None:
        return None
    return new_callback(record.caller, reason, now, call_uniqueid=record.uniqueid, queue=record.queue)


# --- the rules ------------------------------------------------------------------------------


def claim_is_stale(task: CallbackTask, now: datetime, policy: CallbackPolicy) -> bool:
    return task.claimed_at is not None and now - task.claimed_at >= policy.claim_timeout


def allowed_actions(task: CallbackTask, actor: Actor, now: datetime, policy: CallbackPolicy) -> list[CallbackAction]:
    """What this actor may do with the task now. The claimer may renew the claim, call and record
    attempts; others may take over only a claim older than the policy's timeout."""
    if actor.role not in CALLBACK_ROLES or task.status in FINISHED_STATUSES:
        return []
    if task.status is CallbackStatus.OPEN:
        actions = [CallbackAction.CLAIM]
    elif task.claimed_by == actor.user_id:
        actions = [CallbackAction.CLAIM, CallbackAction.CALL, CallbackAction.ATTEMPT]
    else:
        actions = [CallbackAction.CLAIM] if claim_is_stale(task, now, policy) else []
    if actor.role is Role.SUPERVISOR:
        actions.append(CallbackAction.CANCEL)
    return actions


def _why(task: CallbackTask, actor: Actor, policy: CallbackPolicy) -> str:
    if task.status is CallbackStatus.CLAIMED and task.claimed_by != actor.user_id and task.claimed_at:
        until = task.claimed_at + policy.claim_timeout
        return f"claimed by {task.claimed_by}; it may be taken over from {until.isoformat()}"
    if task.status is CallbackStatus.OPEN:
        return "open: claim it first"
    return f"status {task.status}"


def _check(task: CallbackTask, action: CallbackAction, actor: Actor, now: datetime, policy: CallbackPolicy) -> None:
    allowed = allowed_actions(task, actor, now, policy)
    if action not in allowed:
        raise IllegalStep(task, action, allowed, _why(task, actor, policy))


def claim(task: CallbackTask, actor: Actor, now: datetime, policy: CallbackPolicy) -> CallbackTask:
    """Claims an open task, renews one's own claim, or takes over a stale claim."""
    _check(task, CallbackAction.CLAIM, actor, now, policy)
    return dataclasses.replace(task, status=CallbackStatus.CLAIMED, claimed_by=actor.user_id, claimed_at=now)


def check_may_call(task: CallbackTask, actor: Actor, now: datetime, policy: CallbackPolicy) -> None:
    """Only the claimer places the call."""
    _check(task, CallbackAction.CALL, actor, now, policy)


def record_attempt(
    task: CallbackTask, actor: Actor, outcome: Outcome, note: str, now: datetime, policy: CallbackPolicy
) -> CallbackTask:
    """Answered: done. Otherwise back to the list, due after the retry interval — or failed once
    the policy's attempts are used up."""
    _check(task, CallbackAction.ATTEMPT, actor, now, policy)
    attempts = task.attempts + (CallbackAttempt(now, actor.user_id, outcome, note.strip()),)
    if outcome is Outcome.ANSWERED:
        return dataclasses.replace(task, attempts=attempts, status=CallbackStatus.DONE, finished_at=now)
    if len(attempts) >= policy.max_attempts:
        return dataclasses.replace(task, attempts=attempts, status=CallbackStatus.FAILED, finished_at=now)
    return dataclasses.replace(
        task,
        attempts=attempts,
        status=CallbackStatus.OPEN,
        claimed_by=None,
        claimed_at=None,
        due_at=now + policy.retry_after,
    )


def cancel(task: CallbackTask, actor: Actor, reason: str, now: datetime, policy: CallbackPolicy) -> CallbackTask:
    """A supervisor withdraws an open or claimed task (e.g. the caller called again and was served)."""
    _check(task, CallbackAction.CANCEL, actor, now, policy)
    if not reason.strip():
        raise InvalidCallback("a cancellation needs a reason")
    return dataclasses.replace(
        task, status=CallbackStatus.CANCELLED, cancelled_by=actor.user_id, cancel_reason=reason.strip(), finished_at=now
    )


# --- kept places (the IVR's callback offer) ---------------------------------------------------

KEPT_PLACE_ACTOR = Actor("ivr-kept-place", Role.AGENT)
DIAL_OUTCOMES = {"ANSWER": Outcome.ANSWERED, "BUSY": Outcome.BUSY, "NOANSWER": Outcome.NO_ANSWER}


def kept_place_call_ended(
    task: CallbackTask, dial_status: str, now: datetime, policy: CallbackPolicy
) -> CallbackTask | None:
    """The call Asterisk placed when a caller's kept place reached an agent, recorded on its task:
    answered closes it; otherwise the task is back on the callback list, due after the retry
    interval. None when there is nothing to record: not a kept place, finished, or an agent has
    claimed it meanwhile (their claim stands)."""
    if task.reason is not CallbackReason.KEPT_PLACE or task.status is not CallbackStatus.OPEN:
        return None
    claimed = claim(task, KEPT_PLACE_ACTOR, now, policy)
    outcome = DIAL_OUTCOMES.get(dial_status, Outcome.FAILED)
    return record_attempt(
        claimed, KEPT_PLACE_ACTOR, outcome, f"kept place called back ({dial_status or 'no status'})", now, policy
    )
