"""Benchmark: building a draft ticket from a transcript, as it happens on every partial recognition result.

    .venv/bin/python bench/draft_speed.py [--rounds 3] [--knowledge 27000]

The city of bench/data/departments.json (35 departments) with 1,000 past dispatches as triage history, the
Fuzhou gazetteer, the default emergency phrases and a knowledge base of --knowledge entries; transcripts are the
labelled requests of bench/data/triage_labelled.jsonl said as Vosk gives Chinese (words between spaces), fed as
growing partial results. Side by side: drafts checked for repeats against the caller's ten earlier tickets (what
the live path does) and against all 1,000 tickets of the last 30 days (the baseline), with the ratio.
Prints figures only.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import jieba  # noqa: E402

from bench.kb_search import generate_entries  # noqa: E402
from bench.triage_speed import synthetic_history  # noqa: E402
from knowledge.index import KnowledgeIndex  # noqa: E402
from routing.departments import load_departments  # noqa: E402
from routing.drafting import DraftBuilder  # noqa: E402
from routing.duplicates import PriorRequest  # noqa: E402
from routing.emergency import DEFAULT_EMERGENCY_PHRASES, DEFAULT_NOT_EMERGENCIES, EmergencySpotter  # noqa: E402
from routing.places import load_gazetteer  # noqa: E402
from routing.triage import Triage  # noqa: E402

NOW = datetime(2026, 6, 1, 10, 0)
CALLER = "13900000000"


def percentiles(times: list[float]) -> tuple[float, float]:
    times = sorted(times)
    return statistics.median(times), times[min(len(times) - 1, int(len(times) * 0.99))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--knowledge", type=int, default=27000)
    args = parser.parse_args()
    rng = random.Random(12345)
    rows = [
        json.loads(line)
        for line in (REPO / "bench/data/triage_labelled.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    tree = load_departments(REPO / "bench/data/departments.json")
    history = synthetic_history(rows, rng)
    gazetteer_path = REPO / "routing/data/gazetteer.json"
    places = [
        (d["name"], s["name"])
        for d in json.loads(gazetteer_path.read_text(encoding="utf-8"))["districts"]
        for s in d["streets"]
    ]
    callers = [CALLER] + [f"139{rng.randrange(10**8):08d}" for _ in range(299)]
    window = [
        PriorRequest(
            f"T{i:05d}", rng.choice(callers), *rng.choice(places), "", text, NOW - timedelta(days=rng.uniform(0, 30))
        )
        for i, (text, _) in enumerate(history)
    ]
    own = [p for p in window if p.caller_number == CALLER][:10]
    partials = []
    for row in rows:
        words = jieba.lcut(f"喂你好我是{'，'.join(rng.choice(places))}的{row['text']}")
        partials += [" ".join(words[:n]) for n in range(2, len(words) + 1, 3)]
    started = time.perf_counter()
    index = KnowledgeIndex(generate_entries(args.knowledge, random.Random(12345)))
    print(
        f"{len(tree)} departments, {len(history)} past dispatches, {len(index)} knowledge entries "
        f"(built in {time.perf_counter() - started:.1f} s), {len(partials)} partial results x {args.rounds} rounds"
    )
    builder = DraftBuilder(
        Triage(tree, history),
        tree,
        load_gazetteer(gazetteer_path),
        EmergencySpotter(DEFAULT_EMERGENCY_PHRASES, DEFAULT_NOT_EMERGENCIES),
        index,
    )
    figures = {}
    for label, prior in (("caller's earlier tickets (live)", own), ("all 1,000 recent tickets (baseline)", window)):
        times = []
        for _ in range(args.rounds):
            for text in partials:
                t0 = time.perf_counter()
                builder.build("bench", CALLER, text, prior, NOW)
                times.append((time.perf_counter() - t0) * 1000)
        figures[label] = percentiles(times)
        print(
            f"  {label:<38} {len(prior):>5} prior   p50 {figures[label][0]:6.2f} ms   p99 {figures[label][1]:6.2f} ms"
        )
    (live50, live99), (base50, base99) = figures.values()
    print(f"  ratio baseline / live: p50 {base50 / live50:.1f}x, p99 {base99 / live99:.1f}x")


if __name__ == "__main__":
    main()
