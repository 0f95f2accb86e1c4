"""Callbacks (回拨): the list of callers the centre owes a call — abandoned and missed calls,
voice messages, requests — claimed by one agent at a time, called through Asterisk, and closed
by the attempts recorded on them."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import UTC, datetime

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from agent_api.context import ApiContext, context, db, require
from agent_api.errors import AllowedActionsOut, responses
from agent_api.params import BOUNDS, Moment, RowId
from domain.callbacks import (
    CallbackPolicy,
    CallbackReason,
    CallbackStatus,
    CallbackTask,
    Outcome,
    allowed_actions,
    cancel,
    check_may_call,
    claim,
    new_callback,
    record_attempt,
)
from domain.errors import Conflict, NotFound, Unavailable
from domain.tickets import Actor, Role
from storage.callbacks import create_callback, list_callbacks, load_callback, save_callback
from storage.tickets import load_ticket
from storage.users import User

router = APIRouter(prefix="/api/v1", tags=["callbacks"])
CENTRE = require("agent", "supervisor")
POLICY = CallbackPolicy()
ILLEGAL = responses(404, 409, s409=AllowedActionsOut)  # not allowed now (status, or claimed by someone else)

Step = Callable[[CallbackTask, Actor, datetime], CallbackTask]


class CallbackIn(BaseModel):
    """A callback the caller asked for, recorded by hand."""

    caller_number: str = Field(pattern=r"^\+?[0-9]{3,20}$", examples=["13800138000"])
    due_at: Moment | None = Field(default=None, description=f"when to call, {BOUNDS}; default: now")
    ticket_number: str | None = Field(default=None, pattern=r"^[0-9]{13}$", examples=["2026112100001"])
    call_uniqueid: str | None = Field(default=None, max_length=64, description="the call the request was made in")
    queue: str | None = Field(default=None, max_length=128)


class AttemptIn(BaseModel):
    outcome: Outcome = Field(examples=["no_answer"])
    note: str = Field(default="", max_length=2000)


class CancelIn(BaseModel):
    reason: str = Field(min_length=1, max_length=2000, examples=["来电人已再次来电并办理"])


@dataclasses.dataclass(frozen=True)
class CallbackOut(CallbackTask):
    """A task with what the signed-in user may do with it now."""

    allowed_actions: tuple[str, ...] = ()


def _actor(user: User) -> Actor:
    return Actor(user.username, Role(user.role))


def _view(task: CallbackTask, user: User, now: datetime) -> CallbackOut:
    allowed = tuple(str(a) for a in allowed_actions(task, _actor(user), now, POLICY))
    return CallbackOut(**{f.name: getattr(task, f.name) for f in dataclasses.fields(task)}, allowed_actions=allowed)


def _found(task: CallbackTask | None, callback_id: int) -> CallbackTask:
    if task is None:
        raise NotFound(f"no callback {callback_id}", code="callback_not_found")
    return task


def _change(session: Session, callback_id: int, user: User, step: Step) -> CallbackOut:
    """One rule applied to the stored task and saved, in the request's transaction."""
    task = _found(load_callback(session, callback_id), callback_id)
    now = datetime.now(UTC)
    return _view(save_callback(session, step(task, _actor(user), now)), user, now)


@router.get("/callbacks", summary="The callback list: open ones first, soonest due first, then claimed, then finished")
def get_callbacks(
    status_: CallbackStatus | None = Query(default=None, alias="status"),
    due: bool = Query(default=False, description="only tasks due now"),
    limit: int = Query(default=100, ge=1, le=500),
    user: User = Depends(CENTRE),
    session: Session = Depends(db),
) -> list[CallbackOut]:
    now = datetime.now(UTC)
    return [_view(t, user, now) for t in list_callbacks(session, status_, now if due else None, limit)]


@router.get("/callbacks/{callback_id}", summary="One callback task with its attempts")
def get_callback(callback_id: RowId, user: User = Depends(CENTRE), session: Session = Depends(db)) -> CallbackOut:
    return _view(_found(load_callback(session, callback_id), callback_id), user, datetime.now(UTC))


@router.post(
    "/callbacks",
    status_code=201,
    response_model=CallbackOut,
    summary="Record a callback the caller asked for",
    responses=responses(404, 409),
)
def create_requested(
    body: CallbackIn, user: User = Depends(CENTRE), session: Session = Depends(db), ctx: ApiContext = Depends(context)
) -> CallbackOut:
    ctx.callback_numbers.check(body.caller_number)  # 422 callback_number_refused: 110, +44 …
    if body.ticket_number and load_ticket(session, body.ticket_number) is None:
        raise NotFound(f"no ticket {body.ticket_number}", code="ticket_not_found")
    now = datetime.now(UTC)
    task = new_callback(body.caller_number, CallbackReason.REQUESTED, now, **body.model_dump(exclude={"caller_number"}))
    created = create_callback(session, task)
    if created is None:
        raise Conflict(f"call {body.call_uniqueid} already has a requested callback", code="callback_exists")
    return _view(created, user, now)


@router.post(
    "/callbacks/{callback_id}/claim",
    response_model=CallbackOut,
    responses=ILLEGAL,
    summary="Claim the task (or renew one's claim, or take over a claim older than the timeout)",
)
def claim_callback(callback_id: RowId, user: User = Depends(CENTRE), session: Session = Depends(db)) -> CallbackOut:
    return _change(session, callback_id, user, lambda task, actor, now: claim(task, actor, now, POLICY))


@router.post(
    "/callbacks/{callback_id}/attempts",
    response_model=CallbackOut,
    responses=ILLEGAL,
    summary="Record a call attempt (claimer only): answered closes it; otherwise retried later, failed after the last",
)
def add_attempt(
    callback_id: RowId, body: AttemptIn, user: User = Depends(CENTRE), session: Session = Depends(db)
) -> CallbackOut:
    return _change(
        session,
        callback_id,
        user,
        lambda task, actor, now: record_attempt(task, actor, body.outcome, body.note, now, POLICY),
    )


@router.post(
    "/callbacks/{callback_id}/cancel",
    response_model=CallbackOut,
    responses=ILLEGAL,
    summary="Cancel the task, with a reason (supervisors)",
)
def cancel_callback(
    callback_id: RowId, body: CancelIn, user: User = Depends(require("supervisor")), session: Session = Depends(db)
) -> CallbackOut:
    return _change(session, callback_id, user, lambda task, actor, now: cancel(task, actor, body.reason, now, POLICY))


def _read_callback(ctx: ApiContext, callback_id: int) -> CallbackTask:
    with ctx.sessions() as session, session.begin():
        return _found(load_callback(session, callback_id), callback_id)


@router.post(
    "/callbacks/{callback_id}/call",
    response_model=None,
    responses=ILLEGAL,
    summary="Place the callback from the claimer's softphone; record the outcome with /attempts afterwards",
)
async def place_call(callback_id: RowId, user: User = Depends(CENTRE), ctx: ApiContext = Depends(context)) -> dict:
    # The task is read in a transaction of its own, closed before we wait for Asterisk.
    task = await run_in_threadpool(_read_callback, ctx, callback_id)
    check_may_call(task, _actor(user), datetime.now(UTC), POLICY)
    ctx.callback_numbers.check(task.caller_number)  # tasks from caller IDs too: never dial 110 or abroad
    if ctx.cti is None:
        raise Unavailable("call control is not running in this API process", code="call_control_unavailable")
    call = await ctx.cti.calls.place_callback(user.username, task.caller_number, callback_id)
    return {"callback_id": callback_id, "caller_number": task.caller_number, "call": call}
