"""Triage latency: the labelled requests, repeated, against the city's departments and 1,000 past dispatches.

The history is synthetic: labelled requests with a few words swapped out, dispatched to their labelled unit.
Usage: .venv/bin/python bench/triage_speed.py [rounds]
"""

from __future__ import annotations

import json
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from routing.departments import load_departments  # noqa: E402
from routing.triage import Triage  # noqa: E402

DATA = Path(__file__).resolve().parent / "data"
HISTORY = 1000
FILLERS = ("昨天", "我们小区", "麻烦你们", "好几次了", "到现在", "一直没人", "楼下", "今天早上")


def synthetic_history(rows: list[dict], rng: random.Random) -> list[tuple[str, str]]:
    history = []
    for _ in range(HISTORY):
        row = rng.choice(rows)
        text = row["text"]
        cut = rng.randrange(len(text))
        history.append((f"{text[:cut]}{rng.choice(FILLERS)}{text[cut + 2 :]}", row["department"]))
    return history


def main(rounds: int) -> None:
    rows = [json.loads(line) for line in (DATA / "triage_labelled.jsonl").read_text(encoding="utf-8").splitlines()]
    tree = load_departments(DATA / "departments.json")
    started = time.perf_counter()
    triage = Triage(tree, synthetic_history(rows, random.Random(12345)))
    built = time.perf_counter() - started
    times = []
    for _ in range(rounds):
        for row in rows:
            t0 = time.perf_counter()
            triage.triage(row["text"])
            times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    p50 = statistics.median(times)
    p99 = times[min(len(times) - 1, int(len(times) * 0.99))]
    print(
        f"{len(tree)} departments, {HISTORY} history items; index built in {built * 1000:.0f} ms "
        "(jieba's dictionary is loaded at import, before)"
    )
    print(f"{len(times)} triages: p50 {p50:.2f} ms, p99 {p99:.2f} ms, max {times[-1]:.2f} ms")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20)
