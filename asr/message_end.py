"""When a caller's voice message is over: they pressed #, stopped talking for a while, never
started, or reached the time limit. Decided on the audio itself, so a message ends properly
even when speech recognition is down. Pure."""

from __future__ import annotations

import math
from array import array
from dataclasses import dataclass

SPEECH_RMS = 400.0  # 16-bit samples; line noise on a quiet phone line stays well below


def rms(pcm: bytes) -> float:
    samples = array("h", pcm[: len(pcm) - len(pcm) % 2])
    return math.sqrt(sum(s * s for s in samples) / len(samples)) if samples else 0.0


@dataclass(frozen=True)
class MessageLimits:
    max_seconds: float = 60.0
    trailing_silence_seconds: float = 2.5
    no_speech_seconds: float = 8.0


class MessageEnd:
    def __init__(self, limits: MessageLimits, sample_rate: int):
        self._limits = limits
        self._bytes_per_second = 2 * sample_rate
        self._heard = 0.0  # seconds of audio so far
        self._speech_at: float | None = None  # end of the last frame with speech
        self.reason = ""

    def feed(self, pcm: bytes) -> bool:
        """True once the message is over; `reason` says why."""
        self._heard += len(pcm) / self._bytes_per_second
        if rms(pcm) >= SPEECH_RMS:
            self._speech_at = self._heard
        if self._heard >= self._limits.max_seconds:
            self.reason = "time limit"
        elif self._speech_at is None and self._heard >= self._limits.no_speech_seconds:
            self.reason = "no speech"
        elif self._speech_at is not None and self._heard - self._speech_at >= self._limits.trailing_silence_seconds:
            self.reason = "caller stopped"
        return bool(self.reason)

    def key(self, digit: str) -> bool:
        if digit == "#":
            self.reason = "caller pressed #"
        return bool(self.reason)
