"""Issue 20 item 3: an open /api/v1/live websocket outlives its token — after logout, and after the token
expires, it keeps receiving screen-pops with the caller's number. Once the token is revoked or expired
the socket must be closed, within a bounded wait, without delivering another screen-pop."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta
from typing import cast

import httpx
import websockets
from fastapi import FastAPI
from fastapi.testclient import TestClient
from websockets.exceptions import ConnectionClosed

from agent_api.context import ApiContext
from tests.security.conftest import PASSWORD
from tests.security.live_server import served

CLOSE_WITHIN_SECONDS = 5.0
SCREEN_POP = {"type": "screen_pop", "call_id": "c-1", "caller": "13800138000", "queue": "hotline-general"}


async def signed_in(port: int, username: str) -> str:
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
        reply = await client.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD})
    assert reply.status_code == 200, reply.text
    return reply.json()["token"]


async def closed_without_a_screen_pop(socket: websockets.ClientConnection) -> None:
    async def next_message() -> str | bytes:
        return await socket.recv()

    try:
        message = await asyncio.wait_for(next_message(), CLOSE_WITHIN_SECONDS)
    except ConnectionClosed:
        return
    except TimeoutError:
        raise AssertionError(f"the socket is still open {CLOSE_WITHIN_SECONDS} s after its token ended") from None
    raise AssertionError(f"the socket delivered a message after its token ended: {message!r}")


async def test_logout_closes_the_live_socket(make_api: Callable[..., TestClient], add_user: Callable[..., str]) -> None:
    app = cast(FastAPI, make_api().app)
    ctx: ApiContext = app.state.context
    username = add_user("agent")
    async with served(app) as port:
        token = await signed_in(port, username)
        async with websockets.connect(f"ws://127.0.0.1:{port}/api/v1/live?token={token}") as socket:
            assert '"hello"' in await socket.recv()
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
                out = await client.post("/api/v1/auth/logout", headers={"Authorization": f"Bearer {token}"})
            assert out.status_code == 204, out.text

            ctx.hub.publish(f"user:{username}", SCREEN_POP)

            await closed_without_a_screen_pop(socket)


async def test_an_expired_token_closes_the_live_socket(
    make_api: Callable[..., TestClient], add_user: Callable[..., str]
) -> None:
    lifetime = timedelta(seconds=2)
    app = cast(FastAPI, make_api(token_lifetime=lifetime).app)
    ctx: ApiContext = app.state.context
    username = add_user("agent")
    async with served(app) as port:
        token = await signed_in(port, username)
        async with websockets.connect(f"ws://127.0.0.1:{port}/api/v1/live?token={token}") as socket:
            assert '"hello"' in await socket.recv()
            await asyncio.sleep(lifetime.total_seconds() + 0.5)

            ctx.hub.publish(f"user:{username}", SCREEN_POP)

            await closed_without_a_screen_pop(socket)
