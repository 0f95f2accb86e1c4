"""Asterisk's AudioSocket protocol: frames of 1 byte kind, 2 bytes big-endian length, payload.

A connection starts with the stream's UUID; then audio (signed 16-bit little-endian mono PCM,
20 ms a frame), DTMF digits, and a hangup frame or just EOF when the call ends. Pure parsing here;
the server that owns the sockets is asr/speech.py.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from enum import IntEnum

MAX_PAYLOAD = 65535


class Kind(IntEnum):
    HANGUP = 0x00
    UUID = 0x01
    DTMF = 0x03
    AUDIO_8K = 0x10
    AUDIO_16K = 0x12
    ERROR = 0xFF


SAMPLE_RATES = {Kind.AUDIO_8K: 8000, Kind.AUDIO_16K: 16000}


class ProtocolError(ValueError):
    """The peer sent something that is not AudioSocket."""


@dataclass(frozen=True)
class Frame:
    kind: Kind
    payload: bytes

    @property
    def sample_rate(self) -> int | None:
        return SAMPLE_RATES.get(self.kind)


async def read_frame(reader: asyncio.StreamReader) -> Frame | None:
    """The next frame, or None at a clean end of stream (EOF between frames)."""
    try:
        header = await reader.readexactly(3)
    except asyncio.IncompleteReadError as exc:
        if exc.partial:
            raise ProtocolError(f"connection closed inside a frame header ({len(exc.partial)} of 3 bytes)") from None
        return None
    try:
        kind = Kind(header[0])
    except ValueError:
        raise ProtocolError(f"unknown AudioSocket frame kind 0x{header[0]:02x}") from None
    length = int.from_bytes(header[1:3], "big")
    try:
        payload = await reader.readexactly(length) if length else b""
    except asyncio.IncompleteReadError as exc:
        raise ProtocolError(
            f"connection closed inside a {kind.name} frame ({len(exc.partial)} of {length} bytes)"
        ) from None
    return Frame(kind, payload)


def stream_id(frame: Frame | None) -> str:
    """The stream's UUID from the first frame of a connection."""
    if frame is None or frame.kind is not Kind.UUID or len(frame.payload) != 16:
        raise ProtocolError(
            f"a connection must start with a 16-byte UUID frame, got {frame.kind.name if frame else 'EOF'}"
        )
    return str(uuid.UUID(bytes=frame.payload))


def encode(kind: Kind, payload: bytes = b"") -> bytes:
    if len(payload) > MAX_PAYLOAD:
        raise ValueError(f"AudioSocket payload of {len(payload)} bytes exceeds {MAX_PAYLOAD}")
    return bytes([kind]) + len(payload).to_bytes(2, "big") + payload
