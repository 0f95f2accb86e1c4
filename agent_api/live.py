"""Live events for agent desktops and supervisors' wallboards over an authenticated websocket."""

from __future__ import annotations

import asyncio
import contextlib
import time
from datetime import UTC, datetime

from fastapi import APIRouter, WebSocket, WebSocketDisconnect, status

from agent_api.context import ApiContext
from agent_api.live_hub import SIGNED_OUT
from storage.database import DATABASE_UNREACHABLE, reading
from storage.users import SignIn, token_digest

router = APIRouter()
RECHECK_SECONDS = 60.0  # how often an open socket's token is checked again in the database (revoked elsewhere)
TOKEN_ENDED = "signed out, or the token expired: sign in again"


def _authenticate(ctx: ApiContext, token: str) -> SignIn | None:
    with reading(ctx.sessions) as session:
        return ctx.sign_ins.sign_in(session, token, datetime.now(UTC))


@router.websocket("/api/v1/live")
async def live(websocket: WebSocket, token: str = "") -> None:
    """Agents receive screen-pops, call state, transfer progress and their own state; supervisors
    and admins also receive the wallboard. Sign in with `?token=` (browsers cannot set headers on
    a websocket) or an `Authorization: Bearer` header."""
    ctx: ApiContext = websocket.app.state.context
    header = websocket.headers.get("authorization", "")
    token = token or header.removeprefix("Bearer ").strip()
    try:
        sign_in = await asyncio.to_thread(_authenticate, ctx, token) if token else None
    except DATABASE_UNREACHABLE:
        await websocket.close(
            code=status.WS_1013_TRY_AGAIN_LATER, reason="the database is unreachable: try again shortly"
        )
        return
    if sign_in is None:
        await websocket.close(code=status.WS_1008_POLICY_VIOLATION, reason="sign in first: token unknown or expired")
        return
    user = sign_in.user
    if user.role not in ("agent", "supervisor", "admin"):
        await websocket.close(code=status.WS_1008_POLICY_VIOLATION, reason=f"role {user.role} has no live events")
        return
    audiences = [f"user:{user.username}"] + (["supervisors"] if user.role in ("supervisor", "admin") else [])
    queue = ctx.hub.subscribe(audiences, token_digest(token))
    await websocket.accept()
    try:
        hello: dict = {"type": "hello", "user": user.username, "role": user.role}
        if ctx.cti is not None:
            hello["agent"] = ctx.cti.agents.view(user.username)
            hello["telephony_connected"] = ctx.cti.ami.connected
        await websocket.send_json(hello)
        await _forward(websocket, ctx, token, sign_in, queue)
    except WebSocketDisconnect:
        pass
    finally:
        ctx.hub.unsubscribe(queue)


async def _forward(
    websocket: WebSocket, ctx: ApiContext, token: str, sign_in: SignIn, queue: asyncio.Queue[dict]
) -> None:
    """Sends the socket's messages while its token holds; closes it, delivering nothing more, once
    the token is signed out (at once), expires (at its expiry) or is revoked elsewhere (at the next
    check with the database)."""
    recheck_at = time.monotonic() + RECHECK_SECONDS
    while True:
        expires_in = (sign_in.expires_at - datetime.now(UTC)).total_seconds()
        message: dict | None = None
        with contextlib.suppress(TimeoutError):
            message = await asyncio.wait_for(queue.get(), max(0.0, min(expires_in, recheck_at - time.monotonic())))
        if time.monotonic() >= recheck_at:
            with contextlib.suppress(*DATABASE_UNREACHABLE):  # unreachable: what was confirmed still holds
                await asyncio.to_thread(_authenticate, ctx, token)  # forgets a token the database no longer has
            recheck_at = time.monotonic() + RECHECK_SECONDS
        if message is SIGNED_OUT or not ctx.sign_ins.holds(token, datetime.now(UTC)):
            await websocket.close(code=status.WS_1008_POLICY_VIOLATION, reason=TOKEN_ENDED)
            return
        if message is not None:
            await websocket.send_json(message)
