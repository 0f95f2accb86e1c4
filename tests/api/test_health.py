from __future__ import annotations

from fastapi.testclient import TestClient

from agent_api.app import create_app


def test_health_is_200_when_every_part_is_up() -> None:
    client = TestClient(create_app(lambda: {"asterisk": True, "database": True, "agi": True}))
    reply = client.get("/api/v1/health")
    assert reply.status_code == 200
    assert reply.json() == {"ok": True, "asterisk": True, "database": True, "agi": True}


def test_health_is_503_naming_the_part_that_is_down() -> None:
    client = TestClient(create_app(lambda: {"asterisk": False, "database": True, "agi": True}))
    reply = client.get("/api/v1/health")
    assert reply.status_code == 503
    assert reply.json()["asterisk"] is False and reply.json()["ok"] is False
