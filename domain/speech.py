"""What speech recognition produces for the rest of the system: transcripts of callers' audio."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class Purpose(StrEnum):
    CALL = "call"  # the caller's side of a call, from the queue to hangup: a live draft for the agent
    VOICE_MESSAGE = "voice_message"  # a spoken request left in the IVR: a draft ticket and a callback


@dataclass(frozen=True)
class Transcript:
    stream_id: str
    call_id: str  # the caller channel's Asterisk uniqueid
    caller: str
    purpose: Purpose
    text: str
    audio_path: str
    sample_rate: int
    audio_seconds: float
    started_at: datetime
    source: str  # live | catch_up
