"""Transcripts and call drafts."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.speech import Purpose, Transcript
from storage.tables import CallDraftRow, TranscriptRow


def save_transcript(session: Session, transcript: Transcript) -> bool:
    """Inserts the transcript; False (and nothing written) if its stream is already saved, so a
    transcript replayed from the spool after a crash is not saved twice."""
    if session.get(TranscriptRow, transcript.stream_id) is not None:
        return False
    session.add(TranscriptRow(**_row_values(transcript)))
    session.flush()
    return True


def _row_values(transcript: Transcript) -> dict[str, Any]:
    values = asdict(transcript)
    values["call_uniqueid"] = values.pop("call_id")
    values["purpose"] = str(transcript.purpose)
    return values


def transcripts_of_call(session: Session, call_id: str) -> list[Transcript]:
    rows = session.scalars(
        select(TranscriptRow).where(TranscriptRow.call_uniqueid == call_id).order_by(TranscriptRow.started_at)
    )
    return [
        Transcript(
            stream_id=r.stream_id,
            call_id=r.call_uniqueid,
            caller=r.caller or "",
            purpose=Purpose(r.purpose),
            text=r.text,
            audio_path=r.audio_path,
            sample_rate=r.sample_rate,
            audio_seconds=r.audio_seconds,
            started_at=r.started_at,
            source=r.source,
        )
        for r in rows
    ]


def save_call_draft(session: Session, call_id: str, caller: str, draft: dict[str, Any], now: datetime) -> None:
    row = session.get(CallDraftRow, call_id)
    if row is None:
        session.add(CallDraftRow(call_uniqueid=call_id, caller=caller or None, draft=draft, updated_at=now))
    else:
        row.draft, row.updated_at = draft, now


def load_call_draft(session: Session, call_id: str) -> CallDraftRow | None:
    return session.get(CallDraftRow, call_id)


def record_draft_outcome(session: Session, call_id: str, ticket_number: str, changes: dict[str, Any]) -> None:
    """What the agent kept and changed of the call's draft when making ticket `ticket_number`."""
    row = session.get(CallDraftRow, call_id)
    if row is not None:
        row.ticket_number, row.changes = ticket_number, changes


def draft_outcomes(session: Session, since: datetime, until: datetime) -> list[dict[str, Any]]:
    """What agents changed of each draft that became a ticket, for drafts last updated in [since, until)."""
    rows = session.scalars(
        select(CallDraftRow.changes).where(
            CallDraftRow.ticket_number.is_not(None), CallDraftRow.updated_at >= since, CallDraftRow.updated_at < until
        )
    )
    return [changes or {} for changes in rows]
