"""Prometheus metrics of the speech path."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

STREAMS = Counter(
    "hotline_asr_streams_total",
    "AudioSocket streams by purpose (call, voice_message) and outcome: transcribed live, left for catch-up "
    "(ASR down or failed mid-stream), refused (unknown UUID or not AudioSocket)",
    ["purpose", "outcome"],
)
TRANSCRIPTS = Counter("hotline_asr_transcripts_total", "Transcripts made, by source (live, catch_up)", ["source"])
BACKLOG = Gauge("hotline_asr_backlog", "Recorded streams waiting to be transcribed (ASR down or behind)")
UNSAVED = Gauge("hotline_asr_transcripts_unsaved", "Transcripts waiting in the spool for the database")
EMERGENCIES = Counter("hotline_asr_emergency_calls_total", "Calls in which an emergency phrase was heard")
