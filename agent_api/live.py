"""Live events for agent desktops and supervisors' wallboards over an authenticated websocket."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from fastapi import APIRouter, WebSocket, WebSocketDisconnect, status

from agent_api.context import ApiContext
from storage.database import DATABASE_UNREACHABLE
from storage.users import User

router = APIRouter()


def _authenticate(ctx: ApiContext, token: str) -> User | None:
    with ctx.sessions() as session, session.begin():
        return ctx.sign_ins.user(session, token, datetime.now(UTC))


@router.websocket("/api/v1/live")
async def live(websocket: WebSocket, token: str = "") -> None:
    """Agents receive screen-pops, call state, transfer progress and their own state; supervisors
    and admins also receive the wallboard. Sign in with `?token=` (browsers cannot set headers on
    a websocket) or an `Authorization: Bearer` header."""
    ctx: ApiContext = websocket.app.state.context
    header = websocket.headers.get("authorization", "")
    token = token or header.removeprefix("Bearer ").strip()
    try:
        user = await asyncio.to_thread(_authenticate, ctx, token) if token else None
    except DATABASE_UNREACHABLE:
        await websocket.close(code=status.WS_1013_TRY_AGAIN_LATER, reason="the database is unreachable: try again shortly")
        return
    if user is None:
        await websocket.close(code=status.WS_1008_POLICY_VIOLATION, reason="sign in first: token unknown or expired")
        return
    if user.role not in ("agent", "supervisor", "admin"):
        await websocket.close(code=status.WS_1008_POLICY_VIOLATION, reason=f"role {user.role} has no live events")
        return
    audiences = [f"user:{user.username}"] + (["supervisors"] if user.role in ("supervisor", "admin") else [])
    queue = ctx.hub.subscribe(audiences)
    await websocket.accept()
    try:
        hello: dict = {"type": "hello", "user": user.username, "role": user.role}
        if ctx.cti is not None:
            hello["agent"] = ctx.cti.agent_view(user.username)
            hello["telephony_connected"] = ctx.cti.ami.connected
        await websocket.send_json(hello)
        while True:
            await websocket.send_json(await queue.get())
    except WebSocketDisconnect:
        pass
    finally:
        ctx.hub.unsubscribe(queue)
