"""Prometheus metrics of the FastAGI server."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

SESSIONS = Counter(
    "hotline_agi_sessions_total",
    "FastAGI connections by outcome: decided, ended_in_ivr (caller hung up), handover_failed, "
    "handler_error, bad_client (no valid AGI environment)",
    ["outcome"],
)
SESSION_SECONDS = Histogram(
    "hotline_agi_session_seconds",
    "Time from a valid AGI environment to the end of the session",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)
IVR_VERSION = Gauge("hotline_ivr_version", "The IVR flow version new calls start on (0: the shipped file)")
IVR_LOAD_FAILURES = Counter(
    "hotline_ivr_flow_load_failures_total", "Live IVR versions that could not be read, parsed or installed"
)
IVR_SERVICE_FAILURES = Counter(
    "hotline_ivr_service_failures_total",
    "IVR lookups that failed during a call and were treated as no answer (the call went on)",
    ["service"],
)
