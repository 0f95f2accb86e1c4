"""Triage accuracy over the hand-labelled requests: department top-1/top-3, type and urgency, then the misses.

Rows marked "split": "holdout" were written after the cue words and weights had been tuned on the others, and never
tuned on since: their figures are the honest estimate for unseen requests.

Usage: .venv/bin/python bench/triage_eval.py [departments.json] [labelled.jsonl]
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from routing.departments import load_departments  # noqa: E402
from routing.triage import Triage, TriageResult  # noqa: E402

DATA = Path(__file__).resolve().parent / "data"
MEASURES = ("department top-1", "department top-3", "type", "urgent")


def load_labelled(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _hits(row: dict, result: TriageResult) -> dict[str, bool]:
    ranked = [d.code for d in result.departments]
    return {
        "department top-1": ranked[:1] == [row["department"]],
        "department top-3": row["department"] in ranked[:3],
        "type": result.type == row["type"],
        "urgent": result.urgent == row["urgent"],
    }


def _miss(row: dict, result: TriageResult, hits: dict[str, bool]) -> str:
    problems = []
    if not hits["department top-1"]:
        got = "; ".join(f"{d.code} {d.score} {d.matched}" for d in result.departments[:3]) or "nothing"
        problems.append(f"department {row['department']}, got {got}")
    if not hits["type"]:
        problems.append(f"type {row['type']}, got {result.type}")
    if not hits["urgent"]:
        problems.append(f"urgent {row['urgent']}, got {result.urgent}")
    return f"[{row.get('split', 'dev')}] {row['text']}\n    " + "\n    ".join(problems)


def main(departments_path: Path, labelled_path: Path) -> None:
    triage = Triage(load_departments(departments_path))
    totals: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(("n", *MEASURES), 0))
    misses: list[str] = []
    for row in load_labelled(labelled_path):
        result = triage.triage(row["text"])
        hits = _hits(row, result)
        for split in ("all", row.get("split", "dev")):
            totals[split]["n"] += 1
            for measure, hit in hits.items():
                totals[split][measure] += hit
        if not all(hits[m] for m in ("department top-1", "type", "urgent")):
            misses.append(_miss(row, result, hits))
    for split in ("dev", "holdout", "all"):
        if split in totals:
            counts = totals[split]
            print(f"{split} ({counts['n']} requests)")
            for measure in MEASURES:
                print(f"  {measure:<17} {counts[measure]:>3}/{counts['n']} = {counts[measure] / counts['n']:6.1%}")
    print(f"\nmisses ({len(misses)} requests):")
    for miss in misses:
        print(f"- {miss}")


if __name__ == "__main__":
    args = sys.argv[1:]
    main(
        Path(args[0]) if args else DATA / "departments.json",
        Path(args[1]) if len(args) > 1 else DATA / "triage_labelled.jsonl",
    )
