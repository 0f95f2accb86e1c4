"""NUL characters anywhere in a request are refused with the same 422 on both databases (PostgreSQL
text cannot hold them: without the guard a route fails deep inside with a DataError, a 500)."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from agent_api.nul_guard import DETAIL

TICKET = {"request_type": "complaint", "content": "楼下烧烤店油烟很大", "call_uniqueid": "1764000000.1"}


def test_nul_in_a_json_body_is_refused(api: TestClient, login: Callable[..., dict[str, str]]) -> None:
    agent = login("agent")
    for field in ("content", "call_uniqueid", "caller_name"):
        reply = api.post("/api/v1/tickets", json=TICKET | {field: "有\x00人"}, headers=agent)
        assert (reply.status_code, reply.json()) == (422, {"error": "nul_character", "detail": DETAIL}), field
    assert api.get("/api/v1/tickets", headers=agent).json() == []


def test_nul_in_a_path_or_query_is_refused(api: TestClient, login: Callable[..., dict[str, str]]) -> None:
    agent = login("agent")
    for url in ("/api/v1/tickets/2026%00", "/api/v1/public/progress?number=2026120100001&phone=%00"):
        reply = api.get(url, headers=agent)
        assert (reply.status_code, reply.json()) == (422, {"error": "nul_character", "detail": DETAIL}), url


def test_text_that_only_spells_backslash_u0000_is_kept(api: TestClient, login: Callable[..., dict[str, str]]) -> None:
    agent = login("agent")
    reply = api.post("/api/v1/tickets", json=TICKET | {"content": "路牌上写着 \\u0000 字样"}, headers=agent)
    assert reply.status_code == 201, reply.text
    assert reply.json()["content"] == "路牌上写着 \\u0000 字样"
