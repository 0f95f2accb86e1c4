"""Issue 20 item 6: no request size limit. A 100 MB body to /api/v1/auth/login (no token needed) is read
whole by the NUL guard before anything else looks at it; it must be refused with 413 before it is read
whole — whether its size is declared (Content-Length) or not (chunked) — so the server's memory does not
grow by the body's size. And a 422 must never echo the offending value back (a 1 MB field gave a 1 MB reply)."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from agent_api.app import create_app
from agent_api.context import ApiContext
from storage.database import make_engine, make_session_factory
from tests.security.conftest import HEALTHY
from tests.security.live_server import served

BODY_BYTES = 100 * 1024 * 1024
CHUNK = 256 * 1024
READ_AT_MOST = 16 * 1024 * 1024  # socket buffers and a sane limit; far below the body's 100 MB
ANSWER_WITHIN_SECONDS = 60
JSON = {"Content-Type": "application/json"}
TEXT = {"Content-Type": "text/plain"}


def rss_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


async def upload(port: int, chunked: bool) -> tuple[bytes, int, int]:
    """Sends a 100 MB JSON login body until the server answers; returns the status line, the bytes the
    server took (sent and drained) before answering, and how much this process's memory grew meanwhile."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    framing = b"Transfer-Encoding: chunked\r\n" if chunked else f"Content-Length: {BODY_BYTES}\r\n".encode()
    writer.write(
        b"POST /api/v1/auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n" + framing + b"\r\n"
    )
    answer = asyncio.create_task(reader.readline())
    start_rss, peak_rss, sent = rss_bytes(), 0, 0
    payload = b'{"username": "' + b"a" * (CHUNK - 14)
    try:
        async with asyncio.timeout(ANSWER_WITHIN_SECONDS):
            while sent < BODY_BYTES and not answer.done():
                piece = payload if sent == 0 else b"a" * CHUNK
                writer.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n" if chunked else piece)
                drained = asyncio.ensure_future(writer.drain())
                await asyncio.wait({drained, answer}, return_when=asyncio.FIRST_COMPLETED)
                if not drained.done():
                    drained.cancel()
                    break
                if drained.exception() is not None:
                    break  # the server closed the connection
                sent += len(piece)
                peak_rss = max(peak_rss, rss_bytes())
            if chunked and sent >= BODY_BYTES and not answer.done():
                writer.write(b"0\r\n\r\n")
            status = await answer
    except TimeoutError:
        raise AssertionError(f"no answer within {ANSWER_WITHIN_SECONDS} s, after sending {sent >> 20} MB") from None
    finally:
        answer.cancel()
        writer.close()
    return status, sent, max(peak_rss, rss_bytes()) - start_rss


@pytest.mark.parametrize("framing", ["content-length", "chunked"])
async def test_a_huge_login_body_is_refused_before_it_is_read(tmp_path: Path, framing: str) -> None:
    # No database is needed before the refusal: an empty SQLite file, so this runs once, not per backend.
    sessions = make_session_factory(make_engine(f"sqlite:///{tmp_path / 'empty.db'}"))
    app = create_app(ApiContext(sessions=sessions, health=lambda: dict(HEALTHY)))
    async with served(app) as port:
        status, sent, grew = await upload(port, chunked=framing == "chunked")

    seen = f"answer {status!r} after the server took {sent >> 20} MB of the body; its memory grew by {grew >> 20} MB"
    assert status.split()[1:2] == [b"413"], seen
    assert sent < READ_AT_MOST, seen
    assert grew < BODY_BYTES // 2, seen


def test_a_refusal_does_not_echo_a_huge_value_back(api: TestClient) -> None:
    huge = "a" * 1_000_000

    reply = api.post("/api/v1/auth/login", json={"username": huge, "password": "x"})

    assert 400 <= reply.status_code < 500, reply.status_code
    assert len(reply.content) < 10_000, f"a {len(reply.content)}-byte reply"
    assert huge[:1000] not in reply.text


def test_a_ticket_refusal_does_not_echo_a_huge_value_back(
    api: TestClient, login: Callable[..., dict[str, str]]
) -> None:
    huge = "油烟扰民" * 250_000

    reply = api.post("/api/v1/tickets", json={"request_type": "complaint", "content": huge}, headers=login("agent"))

    assert 400 <= reply.status_code < 500, reply.status_code
    assert len(reply.content) < 10_000, f"a {len(reply.content)}-byte reply"


IMPORT = "/api/v1/knowledge/import"


def test_a_body_over_the_default_limit_is_refused_in_the_api_error_body(api: TestClient) -> None:
    body = b'{"username": "' + b"a" * (1024 * 1024) + b'", "password": "x"}'
    streamed = (body[i : i + 65536] for i in range(0, len(body), 65536))  # a generator is sent chunked

    for reply in (
        api.post("/api/v1/auth/login", content=body, headers=JSON),
        api.post("/api/v1/auth/login", content=streamed, headers=JSON),
    ):
        assert reply.status_code == 413, reply.text[:200]
        assert reply.json() == {
            "error": "too_large",
            "detail": "the request body is larger than 1 MB, the limit for this request",
        }


def test_an_import_is_read_only_once_its_sender_is_signed_in(
    make_api: Callable[..., TestClient], login: Callable[..., dict[str, str]]
) -> None:
    """Imports may be larger than the default limit, so their bodies wait for the sender's sign-in."""
    app = make_api().app
    supervisor = login("supervisor", client=TestClient(app))
    taken: list[int] = []

    async def counting(scope, receive, send) -> None:
        async def counted():
            message = await receive()
            taken.append(len(message.get("body", b"")))
            return message

        await app(scope, counted, send)

    client = TestClient(counting, raise_server_exceptions=False)
    body = b"[" + b" " * (3 * 1024 * 1024)  # 3 MB of an unfinished JSON list

    anonymous = client.post(IMPORT, params={"format": "json"}, content=body, headers=TEXT)
    assert anonymous.status_code == 401 and sum(taken) == 0, (anonymous.status_code, sum(taken))

    signed_in = client.post(IMPORT, params={"format": "json"}, content=body, headers={**TEXT, **supervisor})
    assert signed_in.status_code == 422 and sum(taken) == len(body), (signed_in.status_code, signed_in.text[:200])
