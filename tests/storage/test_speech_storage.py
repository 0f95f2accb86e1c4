"""Transcripts and call drafts on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.orm import Session

from domain.speech import Purpose, Transcript
from storage.speech import load_call_draft, save_call_draft, save_transcript, transcripts_of_call

STARTED = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)


def transcript(stream_id: str, text: str, started: datetime = STARTED) -> Transcript:
    return Transcript(
        stream_id,
        "hotline-1.7",
        "13800138000",
        Purpose.CALL,
        text,
        f"/audio/{stream_id}.sln16",
        16000,
        4.5,
        started,
        "live",
    )


def test_a_transcript_is_saved_once(session: Session) -> None:
    first = transcript("5f0c5c1e-0000-4000-8000-000000000001", "楼下 烧烤 店 油烟 很大")
    assert save_transcript(session, first) is True
    assert save_transcript(session, first) is False  # replayed from the spool after a crash
    later = transcript("5f0c5c1e-0000-4000-8000-000000000002", "还有 噪音", STARTED.replace(minute=40))
    assert save_transcript(session, later) is True
    assert transcripts_of_call(session, "hotline-1.7") == [first, later]


def test_the_call_draft_is_replaced_as_it_grows(session: Session) -> None:
    save_call_draft(session, "hotline-1.8", "13800138000", {"transcript": "楼下"}, STARTED)
    save_call_draft(session, "hotline-1.8", "13800138000", {"transcript": "楼下烧烤店"}, STARTED.replace(minute=31))
    session.flush()
    row = load_call_draft(session, "hotline-1.8")
    assert row is not None
    assert (row.draft, row.updated_at) == ({"transcript": "楼下烧烤店"}, STARTED.replace(minute=31))
