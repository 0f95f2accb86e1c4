"""Fan-out of live messages to the websockets subscribed to them."""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict

log = logging.getLogger(__name__)
QUEUE_LIMIT = 1000  # a desktop this far behind loses messages rather than let memory grow
SIGNED_OUT: dict = {"type": "signed_out"}  # put on a socket's queue when its token is revoked (compared by identity)


class Hub:
    """Fans messages out to the websockets subscribed to an audience: "user:<username>" for one
    agent's desktop, "supervisors" for every supervisor and admin."""

    def __init__(self) -> None:
        self._subscribers: dict[str, set[asyncio.Queue[dict]]] = defaultdict(set)
        self._signed_in: dict[str, set[asyncio.Queue[dict]]] = defaultdict(set)  # token digest → its sockets' queues
        self._loop: asyncio.AbstractEventLoop | None = None

    def subscribe(self, audiences: list[str], token_digest: str = "") -> asyncio.Queue[dict]:
        """A socket's queue; `token_digest`: the token it signed in with, for `signed_out`."""
        self._loop = asyncio.get_running_loop()
        queue: asyncio.Queue[dict] = asyncio.Queue(QUEUE_LIMIT)
        for audience in audiences:
            self._subscribers[audience].add(queue)
        if token_digest:
            self._signed_in[token_digest].add(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue[dict]) -> None:
        for subscribers in self._subscribers.values():
            subscribers.discard(queue)
        for digest in [digest for digest, queues in self._signed_in.items() if queue in queues]:
            self._signed_in[digest].discard(queue)
            if not self._signed_in[digest]:
                del self._signed_in[digest]

    def signed_out(self, token_digest: str) -> None:
        """Tells the sockets signed in with the token that it is revoked. Safe from any thread."""
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._end, token_digest)

    def _end(self, token_digest: str) -> None:
        for queue in self._signed_in.pop(token_digest, set()):
            if queue.full():
                queue.get_nowait()  # the socket closes without delivering the rest anyway
            queue.put_nowait(SIGNED_OUT)

    def publish(self, audience: str, message: dict) -> None:
        for queue in list(self._subscribers.get(audience, ())):
            try:
                queue.put_nowait(message)
            except asyncio.QueueFull:
                log.warning(
                    "live: a %s desktop is %d messages behind; %s dropped", audience, QUEUE_LIMIT, message.get("type")
                )
