"""Turns the AMI event stream into stored call records."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, Protocol

from pydantic import TypeAdapter

from domain.calls import CallRecord, CallTracker
from telephony import metrics

log = logging.getLogger(__name__)

RETRY_SECONDS = 2.0
_record_json = TypeAdapter(CallRecord)


class Spool(Protocol):
    """What the recorder needs of storage.spool.DurableSpool (telephony sits beside storage, not above it)."""

    def put(self, key: str, item: dict[str, Any]) -> object: ...

    def drain(self, save: Callable[[dict[str, Any]], None]) -> tuple[int, Exception | None]: ...


class CallRecorder:
    """Feeds events to a CallTracker; each finished call goes to a durable spool first, then to the
    database. What the database refuses stays spooled and is retried, oldest first — also after a
    restart — so a database outage or a crash of this process loses no call record."""

    def __init__(self, save: Callable[[CallRecord], None], spool: Spool, tracker: CallTracker | None = None):
        self._save = save
        self._spool = spool
        self._tracker = tracker or CallTracker()
        self._backlog = False  # records left spooled by the last flush, to retry on a timer

    async def run(self, events: asyncio.Queue[Mapping[str, str]]) -> None:
        await self._flush()  # what an earlier run left spooled
        while True:
            try:
                event = await asyncio.wait_for(events.get(), RETRY_SECONDS if self._backlog else None)
            except TimeoutError:
                await self._flush()
                continue
            try:
                finished = self._tracker.feed(event, datetime.now(UTC))
            except Exception:
                log.exception("AMI event not understood, skipped: %s", dict(event))
                continue
            if finished is not None:
                await asyncio.to_thread(
                    self._spool.put, finished.uniqueid, _record_json.dump_python(finished, mode="json")
                )
                metrics.count_call(
                    finished.route_action,
                    finished.agi_fallback,
                    finished.abandoned,
                    finished.wait_seconds if finished.answered_at else None,
                )
                await self._flush()

    async def _flush(self) -> None:
        left, error = await asyncio.to_thread(
            self._spool.drain, lambda item: self._save(_record_json.validate_python(item))
        )
        if error is not None:
            log.warning("call records not saved yet (%s); %d spooled", error, left)
        self._backlog = bool(left)
        metrics.SPOOLED.set(left)
