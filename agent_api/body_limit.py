"""Bounds request bodies before they are read: a body declared larger than its limit (Content-Length)
is refused with 413 at once, and one that turns out larger while it streams in (chunked) as soon as
the bytes received pass the limit, so no body larger than the limit is ever held in memory. The
limit is the default, or the larger one of a path prefix (recordings, imports), whose route reads the
body itself once the sender is signed in. (Starlette's own body limit answers in plain text, not in
the API's error body.)"""

from __future__ import annotations

import json
from collections.abc import Mapping

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

MB = 1024 * 1024


class BodyTooLarge(HTTPException):
    """Raised from `receive` when the body passes its limit: an HTTPException, so that a route reading
    the body answers it with the API's 413 error body (too_large)."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body is larger than {_size(limit)}, the limit for this request")


def _size(limit: int) -> str:
    return f"{limit / MB:g} MB" if limit >= MB else f"{limit} bytes"


def _declared_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            return int(value) if value.isdigit() else None
    return None


class LimitBodies:
    def __init__(self, app: ASGIApp, default: int, larger: Mapping[str, int]) -> None:
        self.app = app
        self.default = default
        self.larger = dict(larger)  # path prefix → its limit

    def limit(self, path: str) -> int:
        return next((limit for prefix, limit in self.larger.items() if path.startswith(prefix)), self.default)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit(scope["path"])
        declared = _declared_length(scope)
        if declared is not None and declared > limit:
            await _refuse(send, BodyTooLarge(limit))
            return
        received = 0
        started = False

        async def limited() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > limit:
                raise BodyTooLarge(limit)
            return message

        async def watched(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited, watched)
        except BodyTooLarge as refusal:  # raised where no route answers it (a middleware reading the body)
            if started:
                raise
            await _refuse(send, refusal)


async def _refuse(send: Send, refusal: BodyTooLarge) -> None:
    payload = json.dumps({"error": "too_large", "detail": refusal.detail}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode()),
                (b"connection", b"close"),  # the rest of the body is not read
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})
