from __future__ import annotations

from fastapi.testclient import TestClient

from agent_api.app import create_app
from agent_api.context import ApiContext


def app_with(health: dict[str, bool]) -> TestClient:
    return TestClient(create_app(ApiContext(sessions=lambda: None, health=lambda: health)))  # type: ignore[arg-type,return-value]


def test_health_is_200_when_every_part_is_up() -> None:
    reply = app_with({"asterisk": True, "database": True, "agi": True}).get("/api/v1/health")
    assert reply.status_code == 200
    assert reply.json() == {"ok": True, "asterisk": True, "database": True, "agi": True, "warnings": []}


def test_health_is_503_naming_the_part_that_is_down() -> None:
    reply = app_with({"asterisk": False, "database": True, "agi": True}).get("/api/v1/health")
    assert reply.status_code == 503
    assert reply.json()["asterisk"] is False and reply.json()["ok"] is False
