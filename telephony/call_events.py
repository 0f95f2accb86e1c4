"""Turns the AMI event stream into stored call records."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from datetime import UTC, datetime

from domain.calls import CallRecord, CallTracker

log = logging.getLogger(__name__)

RETRY_SECONDS = 2.0


class CallRecorder:
    """Feeds events to a CallTracker and saves each finished call. A record the database refuses
    is kept and retried, oldest first, so a short database outage loses nothing."""

    def __init__(self, save: Callable[[CallRecord], None], tracker: CallTracker | None = None):
        self._save = save
        self._tracker = tracker or CallTracker()
        self._unsaved: list[CallRecord] = []

    @property
    def unsaved(self) -> int:
        return len(self._unsaved)

    async def run(self, events: asyncio.Queue[Mapping[str, str]]) -> None:
        while True:
            try:
                event = await asyncio.wait_for(events.get(), RETRY_SECONDS if self._unsaved else None)
            except TimeoutError:
                await self._flush()
                continue
            try:
                finished = self._tracker.feed(event, datetime.now(UTC))
            except Exception:
                log.exception("AMI event not understood, skipped: %s", dict(event))
                continue
            if finished is not None:
                self._unsaved.append(finished)
                await self._flush()

    async def _flush(self) -> None:
        while self._unsaved:
            record = self._unsaved[0]
            try:
                await asyncio.to_thread(self._save, record)
            except Exception as exc:
                log.warning("call %s: record not saved yet (%s); %d waiting", record.uniqueid, exc, len(self._unsaved))
                return
            self._unsaved.pop(0)
