"""Fan-out of live messages to the websockets subscribed to them."""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict

log = logging.getLogger(__name__)
QUEUE_LIMIT = 1000  # a desktop this far behind loses messages rather than let memory grow


class Hub:
    """Fans messages out to the websockets subscribed to an audience: "user:<username>" for one
    agent's desktop, "supervisors" for every supervisor and admin."""

    def __init__(self) -> None:
        self._subscribers: dict[str, set[asyncio.Queue[dict]]] = defaultdict(set)

    def subscribe(self, audiences: list[str]) -> asyncio.Queue[dict]:
        queue: asyncio.Queue[dict] = asyncio.Queue(QUEUE_LIMIT)
        for audience in audiences:
            self._subscribers[audience].add(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue[dict]) -> None:
        for subscribers in self._subscribers.values():
            subscribers.discard(queue)

    def publish(self, audience: str, message: dict) -> None:
        for queue in list(self._subscribers.get(audience, ())):
            try:
                queue.put_nowait(message)
            except asyncio.QueueFull:
                log.warning("live: a %s desktop is %d messages behind; %s dropped", audience, QUEUE_LIMIT, message.get("type"))
