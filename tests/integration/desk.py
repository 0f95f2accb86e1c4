"""An agent's desktop as the tests drive it: the real agent API over HTTP (uvicorn in the test's
event loop, beside the call-control service) and its live websocket."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import httpx
import websockets

Message = dict


@dataclass
class LiveFeed:
    """Every message one websocket received, with waits for the ones a test expects."""

    messages: list[Message] = field(default_factory=list)
    _arrived: asyncio.Event = field(default_factory=asyncio.Event)
    _task: asyncio.Task | None = None

    async def _read(self, socket) -> None:
        async for raw in socket:
            self.messages.append(json.loads(raw))
            self._arrived.set()

    async def wait_for(self, matches: Callable[[Message], bool], timeout: float = 20, since: int = 0) -> Message:
        async def found() -> Message:
            seen = since
            while True:
                for message in self.messages[seen:]:
                    if matches(message):
                        return message
                seen = len(self.messages)
                self._arrived.clear()
                await self._arrived.wait()

        try:
            return await asyncio.wait_for(found(), timeout)
        except TimeoutError:
            types = [m.get("type") for m in self.messages[-15:]]
            raise AssertionError(f"no matching live message within {timeout} s; last: {types}") from None


def message(kind: str, **fields: object) -> Callable[[Message], bool]:
    return lambda m: m.get("type") == kind and all(m.get(k) == v for k, v in fields.items())


@dataclass
class Desk:
    """One signed-in user of the agent API."""

    client: httpx.AsyncClient
    token: str
    ws_url: str

    async def post(self, path: str, body: dict | None = None) -> httpx.Response:
        return await self.client.post(path, json=body or {}, headers={"Authorization": f"Bearer {self.token}"})

    async def get(self, path: str) -> httpx.Response:
        return await self.client.get(path, headers={"Authorization": f"Bearer {self.token}"})

    async def ok(self, path: str, body: dict | None = None) -> dict:
        reply = await self.post(path, body)
        assert reply.status_code == 200, (path, reply.status_code, reply.text)
        return reply.json()

    async def live(self) -> tuple[LiveFeed, Callable[[], Awaitable[None]]]:
        """Opens the websocket; returns its feed and a closer."""
        socket = await websockets.connect(f"{self.ws_url}?token={self.token}")
        feed = LiveFeed()
        feed._task = reading = asyncio.create_task(feed._read(socket))
        await feed.wait_for(message("hello"), timeout=5)

        async def close() -> None:
            await socket.close()
            reading.cancel()

        return feed, close
