from __future__ import annotations

import asyncio
import uuid

import pytest

from asr.audiosocket import Frame, Kind, ProtocolError, encode, read_frame, stream_id
from asr.message_end import MessageEnd, MessageLimits
from asr.streams import StreamDirectory
from domain.speech import Purpose


def reader_of(data: bytes) -> asyncio.StreamReader:
    reader = asyncio.StreamReader()
    reader.feed_data(data)
    reader.feed_eof()
    return reader


async def frames_of(data: bytes) -> list[Frame]:
    reader, frames = reader_of(data), []
    while (frame := await read_frame(reader)) is not None:
        frames.append(frame)
    return frames


async def test_a_connection_is_a_uuid_then_audio_dtmf_and_hangup() -> None:
    sid = uuid.uuid4()
    audio = bytes(range(256)) * 2 + bytes(128)
    data = encode(Kind.UUID, sid.bytes) + encode(Kind.AUDIO_16K, audio) + encode(Kind.DTMF, b"#") + encode(Kind.HANGUP)
    frames = await frames_of(data)
    assert [f.kind for f in frames] == [Kind.UUID, Kind.AUDIO_16K, Kind.DTMF, Kind.HANGUP]
    assert stream_id(frames[0]) == str(sid)
    assert frames[1].payload == audio and frames[1].sample_rate == 16000
    assert frames[2].payload == b"#"


async def test_truncated_frames_and_unknown_kinds_are_protocol_errors() -> None:
    with pytest.raises(ProtocolError, match="inside a AUDIO_16K frame"):
        await frames_of(encode(Kind.AUDIO_16K, bytes(640))[:300])
    with pytest.raises(ProtocolError, match="frame header"):
        await frames_of(b"\x10\x02")
    with pytest.raises(ProtocolError, match="unknown AudioSocket frame kind 0x42"):
        await frames_of(b"\x42\x00\x00")


def test_a_connection_must_start_with_a_uuid() -> None:
    with pytest.raises(ProtocolError, match="got AUDIO_8K"):
        stream_id(Frame(Kind.AUDIO_8K, bytes(320)))
    with pytest.raises(ProtocolError, match="got EOF"):
        stream_id(None)


def test_streams_are_claimed_once_and_a_call_is_forked_once() -> None:
    directory = StreamDirectory()
    first = directory.expect("call-1", "13800138000", Purpose.CALL)
    assert first is not None
    assert directory.expect("call-1", "13800138000", Purpose.CALL) is None  # requeued: same stream
    message = directory.expect("call-1", "13800138000", Purpose.VOICE_MESSAGE)
    assert message is not None and message.stream_id != first.stream_id
    assert directory.claim(first.stream_id) == first
    assert directory.claim(first.stream_id) is None
    directory.call_ended("call-1")
    assert directory.expect("call-1", "13800138000", Purpose.CALL) is not None


def test_unclaimed_streams_expire() -> None:
    directory = StreamDirectory(expiry_seconds=0)
    info = directory.expect("call-2", "", Purpose.VOICE_MESSAGE)
    assert info is not None and directory.claim(info.stream_id) is None


SILENCE = bytes(640)  # 20 ms at 16 kHz
SPEECH = (b"\x00\x10" + b"\x00\xf0") * 160  # +-4096, RMS 4096


def feed(ending: MessageEnd, frames: list[bytes]) -> int:
    """Frames fed until the end was decided (all of them if never)."""
    for n, frame in enumerate(frames, 1):
        if ending.feed(frame):
            return n
    return len(frames)


def test_a_message_ends_after_trailing_silence() -> None:
    ending = MessageEnd(MessageLimits(trailing_silence_seconds=1.0), 16000)
    used = feed(ending, [SPEECH] * 100 + [SILENCE] * 100)
    assert (used, ending.reason) == (150, "caller stopped")


def test_a_message_without_speech_ends_and_one_too_long_is_cut() -> None:
    silent = MessageEnd(MessageLimits(no_speech_seconds=2.0), 16000)
    assert (feed(silent, [SILENCE] * 500), silent.reason) == (100, "no speech")
    talker = MessageEnd(MessageLimits(max_seconds=3.0), 16000)
    assert (feed(talker, [SPEECH] * 500), talker.reason) == (150, "time limit")


def test_hash_ends_a_message_other_keys_do_not() -> None:
    ending = MessageEnd(MessageLimits(), 8000)
    assert not ending.key("5")
    assert ending.key("#") and ending.reason == "caller pressed #"
