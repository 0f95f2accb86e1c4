"""Which AudioSocket streams are expected: whoever sends a call's audio to us (the audio fork of
a queued call, the IVR's voice-message step) registers the stream's UUID first, so the server
knows which call and purpose a connection belongs to and refuses strangers."""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass, field

from domain.speech import Purpose


@dataclass(frozen=True)
class StreamInfo:
    stream_id: str
    call_id: str  # the caller channel's Asterisk uniqueid
    caller: str
    purpose: Purpose
    registered_at: float = field(default_factory=time.time)


class StreamDirectory:
    """Expected streams by UUID; thread-safe (the FastAGI server registers from worker threads)."""

    def __init__(self, expiry_seconds: float = 60.0):
        self._expected: dict[str, StreamInfo] = {}
        self._calls_forked: set[str] = set()
        self._expiry = expiry_seconds
        self._lock = threading.Lock()

    def expect(self, call_id: str, caller: str, purpose: Purpose) -> StreamInfo | None:
        """A new stream for the call; None if the call's audio is already forked (a requeued
        caller joins the queue again, but one stream covers the whole call)."""
        with self._lock:
            if purpose is Purpose.CALL:
                if call_id in self._calls_forked:
                    return None
                self._calls_forked.add(call_id)
            info = StreamInfo(str(uuid.uuid4()), call_id, caller, purpose)
            self._expected[info.stream_id] = info
            return info

    def claim(self, stream_id: str) -> StreamInfo | None:
        """The stream a connection announced, once; None if unknown or expired."""
        now = time.time()
        with self._lock:
            for key in [k for k, v in self._expected.items() if now - v.registered_at > self._expiry]:
                del self._expected[key]
            return self._expected.pop(stream_id, None)

    def call_ended(self, call_id: str) -> None:
        with self._lock:
            self._calls_forked.discard(call_id)
