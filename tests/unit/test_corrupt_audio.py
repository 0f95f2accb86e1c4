"""Audio that is broken or too long is refused or cut, with the reason, and breaks nothing else:
AudioSocket connections to the real speech server on a loopback port (ASR down, so what arrives is
recorded for later), and damaged WAV uploads through the real sox."""

from __future__ import annotations

import asyncio
import struct
import tempfile
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from prometheus_client import REGISTRY

from asr.audio_store import AudioStore
from asr.audiosocket import Kind, encode
from asr.message_end import MessageLimits
from asr.speech import SpeechService
from asr.streams import StreamDirectory, StreamInfo
from domain.speech import Purpose
from telephony.prompt_audio import PromptAudioError, convert_upload

FRAME = 640  # 20 ms of 16 kHz 16-bit mono
SPEECH = (b"\x00\x10" + b"\x00\xf0") * (FRAME // 4)  # +-4096: loud enough to count as speech


@dataclass
class Listener:
    ended: list[str] = field(default_factory=list)

    def on_text(self, stream: StreamInfo, text: str, final: bool) -> None:
        raise AssertionError("no ASR is attached: no text can come")

    def on_stream_end(self, stream: StreamInfo) -> None:
        self.ended.append(stream.stream_id)


@dataclass
class Server:
    service: SpeechService
    port: int
    listener: Listener
    audio: Path
    unhandled: list[dict]  # what reached the event loop's exception handler

    async def connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        return await asyncio.open_connection("127.0.0.1", self.port)

    def expect(self, purpose: Purpose = Purpose.CALL) -> StreamInfo:
        info = self.service.directory.expect(f"call-{uuid.uuid4()}", "13800138000", purpose)
        assert info is not None
        return info

    async def ended(self, stream_id: str) -> None:
        async with asyncio.timeout(5):
            while stream_id not in self.listener.ended:
                await asyncio.sleep(0.01)

    def recorded(self, stream_id: str) -> bytes:
        return (self.audio / f"{stream_id}.sln16").read_bytes()


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[Server]:
    listener, unhandled = Listener(), []
    service = SpeechService(
        StreamDirectory(),
        AudioStore(tmp_path / "audio"),
        tmp_path / "spool",
        lambda transcript: None,
        listener,
        MessageLimits(max_seconds=1.0, trailing_silence_seconds=60, no_speech_seconds=60),
    )
    loop = asyncio.get_running_loop()
    previous = loop.get_exception_handler()
    loop.set_exception_handler(lambda _loop, context: unhandled.append(context))
    tcp = await service.serve("127.0.0.1", 0)
    try:
        yield Server(service, tcp.sockets[0].getsockname()[1], listener, tmp_path / "audio", unhandled)
    finally:
        tcp.close()
        await tcp.wait_closed()
        loop.set_exception_handler(previous)


def refused() -> float:
    return REGISTRY.get_sample_value("hotline_asr_streams_total", {"purpose": "unknown", "outcome": "refused"}) or 0.0


async def closed_by_server(reader: asyncio.StreamReader) -> bytes:
    """Everything the server sent until it closed the connection."""
    async with asyncio.timeout(5):
        return await reader.read()


async def stream(server: Server, info: StreamInfo, data: bytes) -> bytes:
    """Sends the stream's UUID frame, then `data`, then EOF; returns what the server answered before closing."""
    reader, writer = await server.connect()
    writer.write(encode(Kind.UUID, uuid.UUID(info.stream_id).bytes) + data)
    writer.write_eof()
    await writer.drain()
    answer = await closed_by_server(reader)
    writer.close()
    await server.ended(info.stream_id)
    return answer


@pytest.mark.parametrize(
    "opening",
    [
        b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",  # not AudioSocket: 'G' is no frame kind
        encode(Kind.UUID, bytes(15)),  # a UUID frame one byte short
        encode(Kind.AUDIO_16K, SPEECH),  # audio before any UUID
        encode(Kind.UUID, uuid.uuid4().bytes),  # a UUID nobody registered
        b"\x01\x00",  # closed inside the first header
    ],
    ids=["http", "short-uuid", "audio-first", "unknown-uuid", "cut-header"],
)
async def test_a_connection_that_does_not_open_with_a_known_stream_is_refused_and_the_server_goes_on(
    server: Server, opening: bytes
) -> None:
    before = refused()
    reader, writer = await server.connect()
    writer.write(opening)
    await writer.drain()
    if opening == b"\x01\x00":
        writer.write_eof()

    assert await closed_by_server(reader) == b""
    assert refused() == before + 1
    writer.close()

    info = server.expect()
    await stream(server, info, encode(Kind.AUDIO_16K, SPEECH) * 3 + encode(Kind.HANGUP))
    assert server.recorded(info.stream_id) == SPEECH * 3
    assert server.unhandled == []


@pytest.mark.parametrize(
    "damage",
    [b"\x42\x00\x05hello" + encode(Kind.AUDIO_16K, SPEECH), encode(Kind.AUDIO_16K, SPEECH)[:200]],
    ids=["unknown-kind", "frame-cut-short"],
)
async def test_a_stream_that_turns_to_garbage_keeps_the_audio_before_it_and_waits_for_asr(
    server: Server, damage: bytes
) -> None:
    info = server.expect(Purpose.VOICE_MESSAGE)

    answer = await stream(server, info, encode(Kind.AUDIO_16K, SPEECH) * 5 + damage)

    assert server.recorded(info.stream_id) == SPEECH * 5
    assert server.service.pending_jobs() == 1  # transcribed once ASR is back
    assert answer == encode(Kind.HANGUP)  # the caller's voice message is ended, not left hanging
    assert server.unhandled == []


async def test_frames_of_odd_lengths_and_empty_frames_do_not_break_a_voice_message(server: Server) -> None:
    info = server.expect(Purpose.VOICE_MESSAGE)
    frames = [SPEECH + b"\x01", b"\x7f", b"", SPEECH]

    await stream(server, info, b"".join(encode(Kind.AUDIO_16K, f) for f in frames) + encode(Kind.HANGUP))

    assert server.recorded(info.stream_id) == b"".join(frames)
    assert server.unhandled == []


async def test_a_voice_message_longer_than_the_limit_is_cut_at_the_limit(server: Server) -> None:
    info = server.expect(Purpose.VOICE_MESSAGE)
    two_seconds = encode(Kind.AUDIO_16K, SPEECH) * 100

    answer = await stream(server, info, two_seconds)

    assert answer == encode(Kind.HANGUP)
    assert len(server.recorded(info.stream_id)) == 50 * FRAME  # max_seconds=1.0
    assert server.unhandled == []


async def test_a_stream_that_changes_sample_rate_does_not_mix_rates_in_one_recording(server: Server) -> None:
    info = server.expect()
    eight_k = SPEECH[: FRAME // 2]

    await stream(server, info, encode(Kind.AUDIO_16K, SPEECH) * 2 + encode(Kind.AUDIO_8K, eight_k) * 2)

    assert server.recorded(info.stream_id) == SPEECH * 2


def wav(channels: int = 1, rate: int = 8000, bits: int = 16, encoding: int = 1, data: bytes = SPEECH * 50) -> bytes:
    """A RIFF/WAVE file with the header fields given, whether or not they make sense."""
    block = channels * bits // 8
    fmt = struct.pack("<HHIIHH", encoding, channels, rate, rate * block, block, bits)
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", len(data)) + data
    return b"RIFF" + struct.pack("<I", len(body)) + body


@pytest.mark.parametrize(
    ("upload", "reason"),
    [
        (wav(channels=0), "Channel count is zero"),
        (wav(rate=0), "sampling rate was not specified"),
        (wav(bits=7), "sample size was not specified"),
        (wav(encoding=0x1234), "Unknown WAV file encoding"),
        (wav()[:36] + b"LIST\x04\x00\x00\x00INFO", "Could not find data chunk"),
        (b"RIFF\x1c\x00\x00\x00WAVEfmt \x04\x00\x00\x00\x01\x00\x01\x00data\x00\x00\x00\x00", "fmt chunk is too short"),
    ],
    ids=["no-channels", "no-rate", "7-bit", "unknown-encoding", "no-data-chunk", "short-fmt"],
)
def test_a_wav_with_a_damaged_header_is_refused_with_soxs_reason_and_leaves_no_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, upload: bytes, reason: str
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))

    with pytest.raises(PromptAudioError, match="sox cannot read the WAV file") as caught:
        convert_upload(upload)

    assert reason in str(caught.value) and "export it again" in str(caught.value)
    assert str(tmp_path) not in str(caught.value)  # the server's temporary path is not shown
    assert list(tmp_path.iterdir()) == []
