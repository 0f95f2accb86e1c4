"""Callback tasks as stored, one row per task, written in the caller's transaction."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import datetime
from typing import Any

from pydantic import TypeAdapter
from sqlalchemy import case, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from domain.callbacks import CallbackAttempt, CallbackReason, CallbackStatus, CallbackTask, task_for_call
from domain.calls import CallRecord
from domain.errors import ChangedMeanwhile
from storage.tables import CallbackTaskRow

_attempts = TypeAdapter(tuple[CallbackAttempt, ...])
# Both dialects' INSERT take on_conflict_do_nothing; the plain sqlalchemy.insert does not.
_INSERT: dict[str, Callable[[type[CallbackTaskRow]], postgresql.Insert | sqlite.Insert]] = {
    "postgresql": postgresql.insert,
    "sqlite": sqlite.insert,
}


def _columns(task: CallbackTask) -> dict[str, Any]:
    return {
        "caller_number": task.caller_number,
        "reason": str(task.reason),
        "call_uniqueid": task.call_uniqueid,
        "ticket_number": task.ticket_number,
        "queue": task.queue,
        "status": str(task.status),
        "created_at": task.created_at,
        "due_at": task.due_at,
        "claimed_by": task.claimed_by,
        "claimed_at": task.claimed_at,
        "attempts": _attempts.dump_python(task.attempts, mode="json"),
        "cancelled_by": task.cancelled_by,
        "cancel_reason": task.cancel_reason,
        "finished_at": task.finished_at,
    }


def _task(row: CallbackTaskRow) -> CallbackTask:
    return CallbackTask(
        id=row.id,
        caller_number=row.caller_number,
        reason=CallbackReason(row.reason),
        created_at=row.created_at,
        due_at=row.due_at,
        call_uniqueid=row.call_uniqueid,
        ticket_number=row.ticket_number,
        queue=row.queue,
        status=CallbackStatus(row.status),
        claimed_by=row.claimed_by,
        claimed_at=row.claimed_at,
        attempts=_attempts.validate_python(row.attempts),
        cancelled_by=row.cancelled_by,
        cancel_reason=row.cancel_reason,
        finished_at=row.finished_at,
        version=row.version,
    )


def create_callback(session: Session, task: CallbackTask) -> CallbackTask | None:
    """Stores a new task; None if the same call already has a task for the same reason (INSERT …
    ON CONFLICT DO NOTHING, atomic on both backends). Tasks without a call are always new."""
    insert = _INSERT[session.get_bind().dialect.name]
    statement = (
        insert(CallbackTaskRow)
        .values(**_columns(task), version=1)
        .on_conflict_do_nothing(index_elements=["reason", "call_uniqueid"])
        .returning(CallbackTaskRow.id)
    )
    new_id = session.execute(statement).scalar_one_or_none()
    return None if new_id is None else dataclasses.replace(task, id=new_id, version=1)


def create_callback_for_call(session: Session, record: CallRecord, now: datetime) -> CallbackTask | None:
    """The callback a finished call needs (domain.callbacks.task_for_call), stored once however
    often the record is saved; None if it needs none or already has one."""
    task = task_for_call(record, now)
    return None if task is None else create_callback(session, task)


def load_callback(session: Session, callback_id: int) -> CallbackTask | None:
    row = session.get(CallbackTaskRow, callback_id)
    return None if row is None else _task(row)


def save_callback(session: Session, task: CallbackTask) -> CallbackTask:
    """Stores a changed task and returns it with its new version. A task changed since it was
    loaded (its version differs, or a concurrent transaction wins the flush) raises
    ChangedMeanwhile and nothing is written."""
    row = session.get(CallbackTaskRow, task.id) if task.id is not None else None
    if row is None:
        raise LookupError(f"no callback {task.id}")
    if row.version != task.version:
        raise ChangedMeanwhile(
            f"callback {task.id} is at version {row.version}, not {task.version}: reload and retry",
            "callback_changed_meanwhile",
        )
    for name, value in _columns(task).items():
        setattr(row, name, value)
    try:
        session.flush()
    except StaleDataError:
        raise ChangedMeanwhile(
            f"callback {task.id} changed meanwhile: reload and retry", "callback_changed_meanwhile"
        ) from None
    return dataclasses.replace(task, version=row.version)


def list_callbacks(
    session: Session, status: CallbackStatus | None = None, due_before: datetime | None = None, limit: int = 100
) -> list[CallbackTask]:
    """Open tasks first, soonest due first (so overdue ones lead), then claimed, then finished ones."""
    rank = case(
        (CallbackTaskRow.status == str(CallbackStatus.OPEN), 0),
        (CallbackTaskRow.status == str(CallbackStatus.CLAIMED), 1),
        else_=2,
    )
    query = select(CallbackTaskRow).order_by(rank, CallbackTaskRow.due_at, CallbackTaskRow.id).limit(limit)
    if status is not None:
        query = query.where(CallbackTaskRow.status == str(status))
    if due_before is not None:
        query = query.where(CallbackTaskRow.due_at <= due_before)
    return [_task(row) for row in session.scalars(query)]
