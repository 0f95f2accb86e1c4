"""Finished calls, one row per Asterisk uniqueid."""

from __future__ import annotations

from dataclasses import asdict, fields
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from domain.calls import CallRecord
from storage.tables import CallRecordRow

_FIELDS = tuple(f.name for f in fields(CallRecord))


def save_call_record(session: Session, record: CallRecord) -> None:
    """Inserts the record, or updates the row already saved under its uniqueid."""
    row = session.scalar(select(CallRecordRow).where(CallRecordRow.uniqueid == record.uniqueid))
    if row is None:
        session.add(CallRecordRow(**asdict(record)))
        return
    for name, value in asdict(record).items():
        setattr(row, name, value)


def get_call_record(session: Session, uniqueid: str) -> CallRecord | None:
    row = session.scalar(select(CallRecordRow).where(CallRecordRow.uniqueid == uniqueid))
    return None if row is None else _to_record(row)


def list_call_records(session: Session, limit: int = 100) -> list[CallRecord]:
    """Newest call first."""
    rows = session.scalars(
        select(CallRecordRow)
        .order_by(CallRecordRow.started_at.desc().nulls_last(), CallRecordRow.id.desc())
        .limit(limit)
    )
    return [_to_record(row) for row in rows]


def _to_record(row: CallRecordRow) -> CallRecord:
    return CallRecord(**{name: getattr(row, name) for name in _FIELDS})


def call_records_between(session: Session, start: datetime, end: datetime) -> list[CallRecord]:
    """Calls that started in [start, end)."""
    rows = session.scalars(
        select(CallRecordRow).where(CallRecordRow.started_at >= start, CallRecordRow.started_at < end)
    )
    return [_to_record(row) for row in rows]


def answered_counts(session: Session, since: datetime, within_seconds: float) -> tuple[int, int]:
    """Calls answered by an agent since `since`, and how many of them within `within_seconds`."""
    answered = CallRecordRow.answered_at.is_not(None) & (CallRecordRow.started_at >= since)
    total = session.scalar(select(func.count()).where(answered)) or 0
    in_time = session.scalar(select(func.count()).where(answered, CallRecordRow.wait_seconds <= within_seconds)) or 0
    return total, in_time


def calls_from(session: Session, caller: str, since: datetime) -> int:
    """How many calls came from this number since then (the repeat-caller condition)."""
    return (
        session.scalar(
            select(func.count())
            .select_from(CallRecordRow)
            .where(CallRecordRow.caller == caller, CallRecordRow.started_at >= since)
        )
        or 0
    )
