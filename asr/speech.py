"""The AudioSocket server and what happens to a stream: audio to disk first, then to the
recognizer pool; partial and final text to a listener (live drafts); at the end a transcript.

Nothing accepted is lost and nothing is transcribed twice:
1. a stream accepted from Asterisk is written to disk as it arrives, and a job naming it is put in
   the durable `jobs` spool before any audio is read;
2. a transcript made (live, or later from the file) is put in the durable `transcripts` spool
   before its job is removed;
3. transcripts are saved to the database from that spool, idempotently, and removed once saved.
When ASR is down or fails mid-stream the job stays, and the catch-up loop transcribes the saved
audio once a pool is back; when the database is down the transcript stays spooled.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from asr import metrics
from asr.audio_store import AudioStore, AudioWriter
from asr.audiosocket import Kind, ProtocolError, encode, read_frame, stream_id
from asr.message_end import MessageEnd, MessageLimits
from asr.pool import RecognizerPool, StreamResult
from asr.streams import StreamDirectory, StreamInfo
from domain.speech import Purpose, Transcript
from storage.spool import DurableSpool

log = logging.getLogger(__name__)

FIRST_FRAME_SECONDS = 5.0
CATCH_UP_SECONDS = 2.0
FEED_CHUNK = 32000  # bytes of saved audio handed to the pool at a time when catching up


def _transcript_of(item: dict) -> Transcript:
    return Transcript(
        **item | {"purpose": Purpose(item["purpose"]), "started_at": datetime.fromisoformat(item["started_at"])}
    )


class SpeechListener(Protocol):
    def on_text(self, stream: StreamInfo, text: str, final: bool) -> None:
        """The stream's transcript so far (finals and the current partial), as it grows."""

    def on_stream_end(self, stream: StreamInfo) -> None: ...


@dataclass
class _Recognition:
    """One pool stream's results, live or catching up."""

    finals: list[str] = field(default_factory=list)
    partial: str = ""
    done: asyncio.Future[bool] = field(default_factory=lambda: asyncio.get_running_loop().create_future())

    def text(self) -> str:
        return " ".join(t for t in [*self.finals, self.partial] if t)


@dataclass
class _Live:
    info: StreamInfo
    sample_rate: int
    writer: AudioWriter
    job: Path  # in the jobs spool: whose audio, where, at what rate, since when
    recognition: _Recognition | None = None  # None while ASR is unavailable for this stream


class SpeechService:
    def __init__(
        self,
        directory: StreamDirectory,
        audio: AudioStore,
        spool_dir: Path,
        save: Callable[[Transcript], None],
        listener: SpeechListener,
        message_limits: MessageLimits = MessageLimits(),
    ):
        self.directory = directory
        self._audio = audio
        self._jobs = DurableSpool(spool_dir / "transcription-jobs")
        self._transcripts = DurableSpool(spool_dir / "transcripts")
        self._save = save
        self._listener = listener
        self._limits = message_limits
        self._pool: RecognizerPool | None = None
        self._live: dict[str, _Live] = {}
        self._catching_up: dict[str, _Recognition] = {}
        self._loop: asyncio.AbstractEventLoop | None = None

    # --- the recognizer pool, which may come and go ----------------------------------------------

    def attach_pool(self, pool: RecognizerPool | None) -> None:
        """Use `pool` from now on (None: ASR is down). Streams already running without ASR stay so;
        their audio is transcribed by the catch-up loop."""
        self._pool = pool

    @property
    def asr_available(self) -> bool:
        return self._pool is not None and self._pool.alive

    def stop_pool(self) -> None:
        """Stops the recognizer workers (shutdown, or ASR taken down): streams go on being recorded."""
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.stop()

    def on_result(self, result: StreamResult) -> None:
        """The pool's callback, from its reader thread."""
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._result, result)

    def _result(self, result: StreamResult) -> None:
        live = self._live.get(result.stream_id)
        recognition = live.recognition if live else self._catching_up.get(result.stream_id)
        if recognition is None or recognition.done.done():
            return
        if result.failed:
            log.warning(
                "ASR failed on stream %s: %s; its audio will be transcribed later", result.stream_id, result.failed
            )
            recognition.done.set_result(False)
            if live:
                live.recognition = None
            return
        final = result.final or result.closed
        if final:
            if result.text:
                recognition.finals.append(result.text)
            recognition.partial = ""
        else:
            recognition.partial = result.text
        if result.closed:
            recognition.done.set_result(True)
        if live and (result.text or final):
            self._listener.on_text(live.info, recognition.text(), final)

    def _open_recognition(self, stream: str, sample_rate: int) -> _Recognition | None:
        pool = self._pool
        if pool is None or not pool.alive:
            return None
        recognition = _Recognition()
        pool.open(stream, sample_rate)
        return recognition

    # --- AudioSocket connections ------------------------------------------------------------------

    async def serve(self, host: str, port: int) -> asyncio.Server:
        self._loop = asyncio.get_running_loop()
        return await asyncio.start_server(self._connection, host, port)

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            first = await asyncio.wait_for(read_frame(reader), FIRST_FRAME_SECONDS)
            info = self.directory.claim(stream_id(first))
        except (ProtocolError, TimeoutError, OSError) as exc:
            log.warning("AudioSocket connection refused: %s", exc)
            metrics.STREAMS.labels("unknown", "refused").inc()
            writer.close()
            return
        if info is None:
            log.warning("AudioSocket connection for an unknown or expired stream refused")
            metrics.STREAMS.labels("unknown", "refused").inc()
            writer.close()
            return
        try:
            await self._receive(info, reader, writer)
        finally:
            writer.close()

    async def _receive(self, info: StreamInfo, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        live: _Live | None = None
        ending = MessageEnd(self._limits, 16000) if info.purpose is Purpose.VOICE_MESSAGE else None
        try:
            while True:
                try:
                    frame = await read_frame(reader)
                except (ProtocolError, OSError) as exc:
                    log.warning("stream %s: %s; keeping what arrived", info.stream_id, exc)
                    break
                if frame is None or frame.kind in (Kind.HANGUP, Kind.ERROR):
                    break
                if frame.kind is Kind.DTMF:
                    if ending is not None and ending.key(frame.payload.decode("ascii", "replace")):
                        break
                    continue
                rate = frame.sample_rate
                if rate is None or not frame.payload:
                    continue
                if live is None:
                    live = await self._begin(info, rate)
                    if ending is not None:
                        ending = MessageEnd(self._limits, rate)
                elif rate != live.sample_rate:  # one recording holds one rate: stop rather than mix them
                    log.warning(
                        "stream %s: %d Hz audio after %d Hz; keeping what arrived",
                        info.stream_id,
                        rate,
                        live.sample_rate,
                    )
                    break
                live.writer.write(frame.payload)
                if live.recognition is not None and self._pool is not None:
                    self._pool.feed(info.stream_id, frame.payload)
                if ending is not None and ending.feed(frame.payload):
                    break
            if ending is not None and not writer.is_closing():
                log.info("voice message %s ended: %s", info.stream_id, ending.reason or "caller hung up")
                writer.write(encode(Kind.HANGUP))
        finally:
            if live is not None:
                await self._end(live)
            self._listener.on_stream_end(info)

    async def _begin(self, info: StreamInfo, sample_rate: int) -> _Live:
        whose = {**asdict(info), "sample_rate": sample_rate, "started_at": datetime.now(UTC).isoformat()}
        writer = self._audio.open(info.stream_id, whose)
        job = await asyncio.to_thread(self._jobs.put, info.stream_id, whose | {"audio_path": str(writer.path)})
        metrics.BACKLOG.set(self.pending_jobs())
        live = _Live(info, sample_rate, writer, job, self._open_recognition(info.stream_id, sample_rate))
        self._live[info.stream_id] = live
        return live

    async def _end(self, live: _Live) -> None:
        await asyncio.to_thread(live.writer.close)
        recognition = live.recognition
        text: str | None = None
        if recognition is not None and self._pool is not None:
            self._pool.close(live.info.stream_id)
            try:
                if await asyncio.wait_for(asyncio.shield(recognition.done), 30):
                    text = recognition.text()
            except TimeoutError:
                log.warning("stream %s: ASR did not finish in time; transcribing it later", live.info.stream_id)
        del self._live[live.info.stream_id]
        if text is None:
            metrics.STREAMS.labels(live.info.purpose, "catch_up").inc()
            return
        metrics.STREAMS.labels(live.info.purpose, "live").inc()
        await self._transcribed(live.job, self._transcript(self._jobs.load(live.job), text, "live"))

    # --- transcripts, durable until saved ---------------------------------------------------------

    def _transcript(self, job: dict, text: str, source: str) -> Transcript:
        audio = Path(job["audio_path"])
        size = audio.stat().st_size if audio.exists() else 0
        return Transcript(
            stream_id=job["stream_id"],
            call_id=job["call_id"],
            caller=job["caller"],
            purpose=Purpose(job["purpose"]),
            text=text,
            audio_path=str(audio),
            sample_rate=job["sample_rate"],
            audio_seconds=round(size / (2 * job["sample_rate"]), 2),
            started_at=datetime.fromisoformat(job["started_at"]),
            source=source,
        )

    async def _transcribed(self, job: Path, transcript: Transcript) -> None:
        record = asdict(transcript) | {"started_at": transcript.started_at.isoformat()}
        await asyncio.to_thread(self._transcripts.put, transcript.stream_id, record)
        self._jobs.done(job)
        metrics.TRANSCRIPTS.labels(transcript.source).inc()
        metrics.BACKLOG.set(self.pending_jobs())
        await self.save_pending()

    async def save_pending(self) -> None:
        """Saves spooled transcripts oldest first; stops at the first the database refuses."""
        left, error = await asyncio.to_thread(self._transcripts.drain, lambda item: self._save(_transcript_of(item)))
        if error is not None:
            log.warning("transcripts not saved yet (%s); %d waiting", error, left)
        metrics.UNSAVED.set(left)

    # --- catching up on audio that was not transcribed live ---------------------------------------

    async def run_catch_up(self) -> None:
        """Forever: transcribe saved audio whose job is pending, and save spooled transcripts."""
        self._loop = asyncio.get_running_loop()
        while True:
            try:
                await self.catch_up()
                await self.save_pending()
            except Exception:
                log.exception("speech catch-up failed; retrying")
            await asyncio.sleep(CATCH_UP_SECONDS)

    async def catch_up(self) -> int:
        """Transcribes pending jobs of streams no longer live; returns how many."""
        done = 0
        for job in self._jobs.pending():
            data = self._jobs.load(job)
            if data["stream_id"] in self._live:
                continue
            text = await self._transcribe_saved(data)
            if text is None:
                break  # no ASR now: try again later
            await self._transcribed(job, self._transcript(data, text, "catch_up"))
            done += 1
        return done

    async def _transcribe_saved(self, job: dict) -> str | None:
        stream = job["stream_id"]
        recognition = self._open_recognition(stream, job["sample_rate"])
        pool = self._pool
        if recognition is None or pool is None:
            return None
        self._catching_up[stream] = recognition
        try:
            try:
                audio = await asyncio.to_thread(Path(job["audio_path"]).read_bytes)
            except FileNotFoundError:
                log.error("stream %s: its audio %s is gone; recording an empty transcript", stream, job["audio_path"])
                audio = b""
            for start in range(0, len(audio), FEED_CHUNK):
                pool.feed(stream, audio[start : start + FEED_CHUNK])
            pool.close(stream)
            seconds = len(audio) / (2 * job["sample_rate"])
            ok = await asyncio.wait_for(asyncio.shield(recognition.done), 30 + 2 * seconds)
            return recognition.text() if ok else None
        except TimeoutError as exc:
            log.warning("stream %s: catch-up transcription failed (%s); retrying later", stream, exc)
            return None
        finally:
            del self._catching_up[stream]

    def pending_jobs(self) -> int:
        """Recorded streams not transcribed yet."""
        return len(self._jobs.pending())
