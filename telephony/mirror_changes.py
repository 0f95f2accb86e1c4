"""Waiting for Asterisk's events to show an action's effect on the queue mirror: the event
follower tells after every event, an agent-state request waits until what it asked for is there."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

log = logging.getLogger(__name__)


class MirrorChanges:
    def __init__(self) -> None:
        self._changed = asyncio.Condition()

    async def happened(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def settled(self, done: Callable[[], bool], timeout: float = 5.0) -> None:
        async with self._changed:
            try:
                await asyncio.wait_for(self._changed.wait_for(done), timeout)
            except TimeoutError:
                log.warning("CTI: Asterisk did not confirm a change within %.0f s", timeout)
