"""The recognizer pool with real worker processes and the real Korean model."""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from asr.model import ModelError, model_digest
from asr.pool import RecognizerPool, StreamResult
from tests.asr.conftest import HANGUL, KOREAN_MODEL, corrupt_copy, pcm, silence, two_requests

WAIT = 60.0


class Results:
    """What the pool delivered, as on_result saw it."""

    def __init__(self) -> None:
        self.all: list[StreamResult] = []
        self.threads: set[str] = set()
        self._changed = threading.Condition()

    def __call__(self, result: StreamResult) -> None:
        with self._changed:
            self.all.append(result)
            self.threads.add(threading.current_thread().name)
            self._changed.notify_all()

    def of(self, stream_id: str) -> list[StreamResult]:
        with self._changed:
            return [r for r in self.all if r.stream_id == stream_id]

    def wait(self, done: Callable[[], bool]) -> None:
        with self._changed:
            assert self._changed.wait_for(done, WAIT), self.all

    def last(self, stream_id: str) -> StreamResult:
        self.wait(lambda: any(r.closed or r.failed for r in self.of(stream_id)))
        return self.of(stream_id)[-1]

    def text(self, stream_id: str) -> str:
        """Finals and the closing text, as the caller would join them."""
        self.last(stream_id)
        return " ".join(r.text for r in self.of(stream_id) if (r.final or r.closed) and r.text)


@pytest.fixture
def results() -> Results:
    return Results()


@pytest.fixture
def pool(request: pytest.FixtureRequest, results: Results) -> Iterator[RecognizerPool]:
    pool = RecognizerPool(KOREAN_MODEL, request.param, on_result=results)
    pool.start()
    yield pool
    pool.stop()


@pytest.mark.parametrize("pool", [2], indirect=True)
def test_two_streams_on_two_workers_give_what_transcribe_gives(
    pool: RecognizerPool, results: Results, transcribed: str
) -> None:
    assert pool.alive and len(set(pool.worker_pids())) == 2
    other = pcm("ko_power") + silence(1.2)
    pool.open("first")
    pool.open("second")
    audio = two_requests()
    for start in range(0, len(audio), 3200):  # 100 ms chunks: the workers feed Kaldi 20 ms at a time anyway
        pool.feed("first", audio[start : start + 3200])
        pool.feed("second", other[start : start + 3200])
    assert pool.streams() == 2 and pool.backlog_seconds > 0
    pool.close("first")
    pool.close("second")
    assert results.text("first") == transcribed and HANGUL.search(transcribed)
    assert results.text("second") != transcribed and HANGUL.search(results.text("second"))
    closed = results.last("first")
    assert closed.closed and closed.final and closed.end_seconds == len(audio) / 32000
    partials = [r for r in results.of("first") if not r.final]
    assert partials and partials[0].end_seconds < closed.end_seconds
    assert [r.closed for r in results.of("first")].count(True) == 1
    assert pool.streams() == 0 and pool.backlog_seconds == 0
    assert results.threads == {"asr-results"}  # one dispatcher thread, in the parent
    pool.feed("first", audio)  # closed: a no-op
    assert pool.streams() == 0 and pool.backlog_seconds == 0


@pytest.mark.parametrize("pool", [1], indirect=True)
def test_a_killed_worker_fails_its_streams_and_the_caller_goes_on(pool: RecognizerPool, results: Results) -> None:
    audio = two_requests()
    for stream in ("a", "b"):
        pool.open(stream)
        pool.feed(stream, audio[:32000])
    results.wait(lambda: bool(results.of("a")))  # the worker is decoding
    os.kill(pool.worker_pids()[0], signal.SIGKILL)
    for stream in ("a", "b"):
        failed = results.last(stream)
        assert failed.failed == "ASR worker asr-worker-0 was killed by SIGKILL" and not failed.closed
    assert not pool.alive and pool.streams() == 0
    count = len(results.all)
    pool.feed("a", audio)
    pool.close("b")
    pool.feed("never-opened", audio)
    assert len(results.all) == count and pool.backlog_seconds == 0  # nothing queued, nothing raised
    pool.open("c")
    assert results.last("c").failed == "no ASR worker is running"


@pytest.mark.parametrize("pool", [1], indirect=True)
def test_stopping_fails_the_open_streams(pool: RecognizerPool, results: Results) -> None:
    pool.open("call")
    pool.feed("call", two_requests())
    pool.stop()
    assert results.last("call").failed == "ASR stopped"
    assert not pool.alive


def test_a_missing_model_fails_the_start_before_spawning(tmp_path: Path, results: Results) -> None:
    with pytest.raises(ModelError, match="does not exist"):
        RecognizerPool(tmp_path / "nowhere", 1, on_result=results).start()


def test_a_corrupt_model_fails_the_start_with_the_workers_message(tmp_path: Path, results: Results) -> None:
    broken = corrupt_copy(tmp_path)
    pool = RecognizerPool(broken, 1, model_digest(broken), on_result=results)
    with pytest.raises(ModelError, match=f"Vosk could not load the model in {broken}"):
        pool.start()
    assert not pool.alive
