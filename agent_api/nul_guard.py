"""Refuses NUL characters in a request's path, query or JSON body with a 422. PostgreSQL text cannot
hold them (it raises a DataError deep inside a route, a 500), SQLite would store them; refusing them
at the door gives both backends the same clear answer for every route. The body it reads is bounded
by LimitBodies, which wraps it."""

from __future__ import annotations

import json
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

DETAIL = "text may not contain NUL (U+0000) characters"


def _holds_nul(value: Any) -> bool:
    """Whether a string anywhere in a decoded JSON value holds NUL; iterative, for any nesting depth."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return True
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return False


def _json_holds_nul(body: bytes) -> bool:
    if b"\\u0000" not in body:  # the only way JSON can spell NUL; a raw NUL byte is not JSON at all
        return False
    try:
        return _holds_nul(json.loads(body))
    except (ValueError, RecursionError):
        return False  # not JSON, or nested too deeply to decode: the route's own validation says so


class RefuseNul:
    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        if "\x00" in scope["path"] or b"%00" in scope["query_string"]:
            await self._refuse(scope, receive, send)
            return
        content_type = dict(scope.get("headers", ())).get(b"content-type", b"")
        if scope["type"] != "http" or not content_type.startswith(b"application/json"):
            await self.app(scope, receive, send)
            return
        messages: list[Message] = []
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request" or not message.get("more_body", False):
                break
        if _json_holds_nul(b"".join(m.get("body", b"") for m in messages)):
            await self._refuse(scope, receive, send)
            return

        async def replay() -> Message:
            return messages.pop(0) if messages else await receive()

        await self.app(scope, replay, send)

    @staticmethod
    async def _refuse(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            await receive()  # websocket.connect
            await send({"type": "websocket.close", "code": 1008, "reason": DETAIL})
            return
        payload = json.dumps({"error": "nul_character", "detail": DETAIL}).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 422,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())],
            }
        )
        await send({"type": "http.response.body", "body": payload})
