"""Prometheus metrics of calls, from the call records the AMI events produce."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

CALLS = Counter(
    "hotline_calls_total",
    "Finished 12345 calls by route (queue, transfer, hangup, none) and whether the dialplan fell back "
    "to the default queue because our AGI failed",
    ["route", "fallback"],
)
ABANDONED = Counter("hotline_calls_abandoned_total", "Callers who hung up while queued")
QUEUE_WAIT = Histogram(
    "hotline_queue_wait_seconds",
    "Wait in the queue of answered calls",
    buckets=(5, 10, 15, 20, 30, 45, 60, 90, 120, 180, 300, 600),
)
SPOOLED = Gauge("hotline_call_records_spooled", "Call records waiting in the spool for the database")


def count_call(route: str | None, fallback: bool, abandoned: bool, answered_wait: float | None) -> None:
    CALLS.labels(route or "none", "yes" if fallback else "no").inc()
    if abandoned:
        ABANDONED.inc()
    if answered_wait is not None:
        QUEUE_WAIT.observe(answered_wait)


WAITING = Gauge("hotline_calls_waiting", "Callers waiting in the queues now")
LONGEST_WAIT = Gauge("hotline_longest_wait_seconds", "The longest current wait in any queue")
AGENTS = Gauge("hotline_agents", "Logged-in agents by presence", ["presence"])
TRANSFERS = Counter(
    "hotline_transfers_total",
    "Finished transfers, three-way calls and 110/119/120 handoffs by kind and outcome",
    ["kind", "outcome"],
)


def show_wallboard(wallboard: dict) -> None:
    WAITING.set(wallboard["waiting"])
    LONGEST_WAIT.set(wallboard["longest_wait_seconds"])
    for presence, count in wallboard["agents"].items():
        AGENTS.labels(presence).set(count)
