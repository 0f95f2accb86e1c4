"""Work started from event handlers that must not hold them up: each task is kept referenced until it
ends (asyncio keeps only weak references), and its failure is logged, not lost."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable


class Background:
    def __init__(self, log: logging.Logger):
        self._log = log
        self._tasks: set[asyncio.Task] = set()

    def spawn(self, work: Awaitable, what: str) -> None:
        async def guarded() -> None:
            try:
                await work
            except Exception:
                self._log.exception("%s failed", what)

        task = asyncio.create_task(guarded())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
