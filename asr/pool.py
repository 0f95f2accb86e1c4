"""Speech recognition for many streams at once: worker processes (spawned, never forked from the parent's
threads and event loop), each with the model loaded once; capacity grows with workers.

A stream is pinned at open to the worker with the fewest streams. The caller's calls only queue work: a
sender thread per worker ships whatever has queued up as one message (so frames batch themselves when
the worker is busy), and a reader thread per worker takes back results and progress. Results reach
`on_result` from one dispatcher thread, in order per stream. A worker feeds each of its streams 20 ms
at a time, taking turns, so a long recording being caught up on does not hold up live calls, and the
text does not depend on how the caller chunked the audio (it equals `transcribe()` of the same audio).
A worker keeps the recognizers of ended streams for the next ones (as many as it once had streams at the
same time): a new one costs ~0.6 s of CPU before it runs at full speed. Their graph caches grow with the
speech they decode (~200 MB in the first minute, then a few MB a minute), so a recognizer is dropped once
it has decoded RETIRE_SECONDS of audio.
"""

from __future__ import annotations

import logging
import multiprocessing
import queue
import signal
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path

from asr.model import EndpointerDelays, ModelError, check_model_dir, load_model
from asr.recognizer import StreamRecognizer, frame_bytes

log = logging.getLogger(__name__)

_OPEN, _FEED, _CLOSE = "open", "feed", "close"
RETIRE_SECONDS = 3600.0
PROGRESS_SECONDS = 0.05  # a busy worker reports progress (for backlog_seconds) at least this often
STOP_SECONDS = 5.0


@dataclass(frozen=True)
class StreamResult:
    """A partial or final text of a stream; `closed` once after close() (with the last final text, maybe
    empty); `failed` (the reason) when the stream's worker died or the pool stopped — a closed or failed
    result is the stream's last."""

    stream_id: str
    text: str
    final: bool
    end_seconds: float
    closed: bool = False
    failed: str = ""


# --- in a worker process ------------------------------------------------------------------------------


class _Recognition:
    """A stream in a worker: its recognizer and the audio not yet fed to it."""

    def __init__(self, recognizer: StreamRecognizer):
        self.recognizer = recognizer
        self.frame = frame_bytes(recognizer.sample_rate)
        self.chunks: deque[bytes] = deque()
        self.offset = 0  # into chunks[0]
        self.pending = 0
        self.processed = 0
        self.closing = False

    def ready(self) -> bool:
        return self.pending >= self.frame or self.closing

    def take(self) -> bytes:
        """The next frame (at the end of a closing stream, what is left)."""
        parts, need = [], self.frame
        while need and self.chunks:
            chunk = self.chunks[0]
            part = chunk[self.offset : self.offset + need]
            parts.append(part)
            need -= len(part)
            self.offset += len(part)
            if self.offset == len(chunk):
                self.chunks.popleft()
                self.offset = 0
        self.pending -= self.frame - need
        return b"".join(parts)


class _Worker:
    def __init__(self, model, inbox: Connection, outbox: Connection):
        self._model = model
        self._inbox = inbox
        self._outbox = outbox
        self._streams: dict[str, _Recognition] = {}
        self._idle: dict[int, list[StreamRecognizer]] = {}  # finished recognizers by sample rate, kept warm
        self._events: list[tuple] = []
        self._progress: dict[str, int] = {}
        self._reported = time.monotonic()

    def run(self) -> None:
        """Until the parent says stop (None) or goes away."""
        try:
            while True:
                while self._inbox.poll(0) or not self._busy():
                    batch = self._inbox.recv()
                    if batch is None:
                        return
                    self._take(batch)
                self._round()
        except EOFError:
            return

    def _busy(self) -> bool:
        return any(stream.ready() for stream in self._streams.values())

    def _take(self, batch: list[tuple]) -> None:
        for op, stream_id, arg in batch:
            if op == _OPEN:
                try:
                    self._streams[stream_id] = _Recognition(self._recognizer(arg))
                except Exception as exc:  # vosk's bare Exception, e.g. for a sample rate it refuses
                    self._events.append((stream_id, "", False, 0.0, False, f"recognizer not created: {exc}"))
                continue
            stream = self._streams.get(stream_id)
            if stream is None:
                continue
            if op == _FEED:
                stream.chunks.append(arg)
                stream.pending += len(arg)
            else:
                stream.closing = True
        self._report()

    def _recognizer(self, sample_rate: int) -> StreamRecognizer:
        idle = self._idle.get(sample_rate)
        if not idle:
            return StreamRecognizer(self._model, sample_rate)
        recognizer = idle.pop()
        recognizer.restart()
        return recognizer

    def _round(self) -> None:
        """One frame of each stream that has one; the end of each closing stream that has no more."""
        for stream_id, stream in list(self._streams.items()):
            if not stream.ready():
                continue
            try:
                if stream.pending:
                    frame = stream.take()
                    result = stream.recognizer.feed(frame)
                    stream.processed += len(frame)
                    self._progress[stream_id] = stream.processed
                    if result is not None:
                        self._events.append((stream_id, result.text, result.final, result.end_seconds, False, ""))
                else:
                    last = stream.recognizer.finish()
                    del self._streams[stream_id]
                    if stream.recognizer.lifetime_seconds < RETIRE_SECONDS:
                        self._idle.setdefault(stream.recognizer.sample_rate, []).append(stream.recognizer)
                    self._events.append(
                        (stream_id, last.text if last else "", True, stream.recognizer.seconds, True, "")
                    )
            except Exception as exc:
                del self._streams[stream_id]
                self._events.append((stream_id, "", False, stream.recognizer.seconds, False, f"recognizer: {exc}"))
        self._report()

    def _report(self) -> None:
        now = time.monotonic()
        if self._events or (self._progress and (now - self._reported >= PROGRESS_SECONDS or not self._busy())):
            self._outbox.send((self._events, self._progress))
            self._events, self._progress, self._reported = [], {}, now


def _work(model_dir: str, endpointer: EndpointerDelays | None, inbox: Connection, outbox: Connection) -> None:
    """A worker process's main."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole process group: the parent decides
    try:
        model = load_model(Path(model_dir), endpointer=endpointer)
    except ModelError as exc:
        outbox.send(("error", str(exc)))
        return
    outbox.send(("ready", None))
    _Worker(model, inbox, outbox).run()


# --- in the parent ------------------------------------------------------------------------------------


class _WorkerHandle:
    """The parent's side of one worker process."""

    def __init__(self, ctx, index: int, model_dir: Path, endpointer: EndpointerDelays | None):
        inbox, self._to_worker = ctx.Pipe(duplex=False)
        self._from_worker, outbox = ctx.Pipe(duplex=False)
        self.name = f"asr-worker-{index}"
        self.process = ctx.Process(
            target=_work, args=(str(model_dir), endpointer, inbox, outbox), name=self.name, daemon=True
        )
        self.process.start()
        inbox.close()  # the child has its own copies: the parent's must go for EOF to show a dead end
        outbox.close()
        self.alive = False
        self.load = 0  # open streams, for pinning
        self._queued: list[tuple] = []
        self._stopping = False
        self._wake = threading.Condition()
        self._threads: list[threading.Thread] = []

    def wait_ready(self, deadline: float) -> None:
        if not self._from_worker.poll(max(0.0, deadline - time.monotonic())):
            raise RuntimeError(f"{self.name} did not load the ASR model in time")
        try:
            kind, detail = self._from_worker.recv()
        except EOFError:
            self.process.join(STOP_SECONDS)
            raise RuntimeError(f"{self.name} {self.exit_reason()} while loading the ASR model") from None
        if kind == "error":
            raise ModelError(detail)
        self.alive = True

    def run(self, on_message: Callable, on_exit: Callable) -> None:
        self._threads = [
            threading.Thread(target=self._send, name=f"{self.name}-send", daemon=True),
            threading.Thread(target=self._read, args=(on_message, on_exit), name=f"{self.name}-read", daemon=True),
        ]
        for thread in self._threads:
            thread.start()

    def post(self, item: tuple) -> None:
        with self._wake:
            self._queued.append(item)
            self._wake.notify()

    def stop(self) -> None:
        with self._wake:
            self._stopping = True
            self._queued.clear()
            self._wake.notify()

    def _send(self) -> None:
        while True:
            with self._wake:
                self._wake.wait_for(lambda: self._queued or self._stopping)
                batch, self._queued = self._queued, []
                stopping = self._stopping
            try:
                if batch and not stopping:
                    self._to_worker.send(batch)
                if stopping:
                    self._to_worker.send(None)
                    return
            except OSError:  # the worker is gone: the reader reports it
                return

    def _read(self, on_message: Callable, on_exit: Callable) -> None:
        try:
            while True:
                on_message(self, *self._from_worker.recv())
        except (EOFError, OSError):
            pass
        self.alive = False
        self.stop()  # ends the sender
        self.process.join(STOP_SECONDS)
        on_exit(self)

    def exit_reason(self) -> str:
        code = self.process.exitcode
        if code is None:
            return "stopped answering"
        if code < 0:
            return f"was killed by {signal.Signals(-code).name}"
        return f"exited with code {code}"

    def end(self) -> None:
        """Waits for the process (killing it if it will not stop) and the threads, then closes the pipes."""
        self.process.join(STOP_SECONDS)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(STOP_SECONDS)
        for thread in self._threads:
            thread.join(STOP_SECONDS)
        self._to_worker.close()
        self._from_worker.close()


@dataclass
class _Stream:
    worker: _WorkerHandle
    sample_rate: int
    fed: int = 0
    processed: int = 0
    closing: bool = False

    @property
    def processed_seconds(self) -> float:
        return self.processed / (2 * self.sample_rate)


class RecognizerPool:
    def __init__(
        self,
        model_dir: Path,
        workers: int,
        sha256: str | None = None,
        *,
        on_result: Callable[[StreamResult], None],
        endpointer: EndpointerDelays | None = None,
    ):
        self._model_dir = model_dir
        self._count = workers
        self._sha256 = sha256
        self._on_result = on_result
        self._endpointer = endpointer
        self._workers: list[_WorkerHandle] = []
        self._streams: dict[str, _Stream] = {}
        self._lock = threading.Lock()
        self._results: queue.SimpleQueue[StreamResult | None] = queue.SimpleQueue()
        self._dispatcher: threading.Thread | None = None
        self._stopping = False

    def start(self, timeout: float = 120) -> None:
        """Spawns the workers and returns once each has loaded the model; ModelError if it is missing or
        broken (the model directory is checked, and its digest computed, once here)."""
        if self._workers or self._stopping:
            raise RuntimeError("RecognizerPool.start() is called once")
        check_model_dir(self._model_dir, self._sha256)
        ctx = multiprocessing.get_context("spawn")
        handles: list[_WorkerHandle] = []
        deadline = time.monotonic() + timeout
        try:
            handles.extend(_WorkerHandle(ctx, i, self._model_dir, self._endpointer) for i in range(self._count))
            for handle in handles:
                handle.wait_ready(deadline)
        except BaseException:
            for handle in handles:
                handle.process.kill()
                handle.end()
            raise
        self._workers = handles
        self._dispatcher = threading.Thread(target=self._dispatch, name="asr-results", daemon=True)
        self._dispatcher.start()
        for handle in handles:
            handle.run(self._worker_message, self._worker_exit)

    # --- the caller's side: thread-safe, never blocks on the workers -----------------------------------

    def open(self, stream_id: str, sample_rate: int = 16000) -> None:
        """Starts recognising a stream (ids are unique among open streams; a repeated open is ignored).
        With no worker alive the stream fails at once (a failed result)."""
        with self._lock:
            if stream_id in self._streams:
                log.warning("ASR stream %s is already open", stream_id)
                return
            workers = [w for w in self._workers if w.alive] if not self._stopping else []
            if workers:
                worker = min(workers, key=lambda w: w.load)
                worker.load += 1
                self._streams[stream_id] = _Stream(worker, sample_rate)
                worker.post((_OPEN, stream_id, sample_rate))
                return
        self._deliver(StreamResult(stream_id, "", False, 0.0, failed="no ASR worker is running"))

    def feed(self, stream_id: str, pcm: bytes) -> None:
        """Queues signed 16-bit mono PCM; a no-op for a stream not open (unknown, closed or failed)."""
        with self._lock:
            stream = self._streams.get(stream_id)
            if stream is None or stream.closing:
                return
            stream.fed += len(pcm)
            stream.worker.post((_FEED, stream_id, pcm))

    def close(self, stream_id: str) -> None:
        """Ends a stream: its last final text comes as a closed result, after the audio queued before."""
        with self._lock:
            stream = self._streams.get(stream_id)
            if stream is None or stream.closing:
                return
            stream.closing = True
            stream.worker.post((_CLOSE, stream_id, None))

    def stop(self) -> None:
        """Stops the workers; streams still open fail ("ASR stopped"). Audio queued is dropped."""
        with self._lock:
            if self._stopping:
                return
            self._stopping = True
        for worker in self._workers:
            worker.stop()
        for worker in self._workers:
            worker.end()
        self._results.put(None)
        if self._dispatcher is not None and self._dispatcher is not threading.current_thread():
            self._dispatcher.join(STOP_SECONDS)

    @property
    def alive(self) -> bool:
        """Whether new streams can be recognised: not stopped, and at least one worker running."""
        return not self._stopping and any(w.alive for w in self._workers)

    def streams(self) -> int:
        """Streams opened and not yet ended (by a closed or failed result)."""
        with self._lock:
            return len(self._streams)

    @property
    def backlog_seconds(self) -> float:
        """Seconds of audio fed but not yet recognised, over all streams: growing means ASR is falling behind."""
        with self._lock:
            return sum((s.fed - s.processed) / (2 * s.sample_rate) for s in self._streams.values())

    def worker_pids(self) -> list[int]:
        return [w.process.pid for w in self._workers if w.process.pid is not None]

    # --- reader and dispatcher threads -----------------------------------------------------------------

    def _worker_message(self, worker: _WorkerHandle, events: list[tuple], progress: dict[str, int]) -> None:
        results = []
        with self._lock:
            for stream_id, processed in progress.items():
                stream = self._streams.get(stream_id)
                if stream is not None and stream.worker is worker:
                    stream.processed = processed
            for event in events:
                result = StreamResult(*event)
                stream = self._streams.get(result.stream_id)
                if stream is None or stream.worker is not worker:
                    continue
                if result.closed or result.failed:
                    del self._streams[result.stream_id]
                    worker.load -= 1
                results.append(result)
        for result in results:
            self._deliver(result)

    def _worker_exit(self, worker: _WorkerHandle) -> None:
        reason = "ASR stopped" if self._stopping else f"ASR worker {worker.name} {worker.exit_reason()}"
        with self._lock:
            lost = {sid: s for sid, s in self._streams.items() if s.worker is worker}
            for stream_id in lost:
                del self._streams[stream_id]
            worker.load = 0
        if not self._stopping:
            log.error("%s; %d streams on it failed", reason, len(lost))
        for stream_id, stream in lost.items():
            self._deliver(StreamResult(stream_id, "", False, stream.processed_seconds, failed=reason))

    def _deliver(self, result: StreamResult) -> None:
        if self._dispatcher is not None and self._dispatcher.is_alive():
            self._results.put(result)
        else:  # never started, or stopped: nobody else would deliver it
            self._call(result)

    def _dispatch(self) -> None:
        while (result := self._results.get()) is not None:
            self._call(result)

    def _call(self, result: StreamResult) -> None:
        try:
            self._on_result(result)
        except Exception:
            log.exception("ASR result handler failed on stream %s", result.stream_id)
