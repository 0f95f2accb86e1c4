"""With the database unreachable (a real PostgreSQL URL where nothing listens), every route that
needs it answers 503 saying nothing was saved, never a bare 500."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from agent_api.app import create_app
from agent_api.context import ApiContext
from storage.database import make_engine, make_session_factory

NOWHERE = "postgresql+psycopg://postgres@127.0.0.1:1/hotline?connect_timeout=2"


@pytest.fixture(scope="module")
def api() -> TestClient:
    sessions = make_session_factory(make_engine(NOWHERE))
    return TestClient(create_app(ApiContext(sessions=sessions, health=lambda: {"database": False})))


@pytest.mark.parametrize(
    "method, path, body",
    [
        ("POST", "/api/v1/auth/login", {"username": "wang", "password": "s3cret-enough"}),
        ("GET", "/api/v1/tickets", None),
        ("POST", "/api/v1/tickets", {"request_type": "complaint", "content": "楼下烧烤店油烟很大"}),
        ("GET", "/api/v1/public/progress?number=2026120100001&phone=13800138000", None),
    ],
)
def test_routes_say_the_database_is_unreachable(api: TestClient, method: str, path: str, body: dict | None) -> None:
    reply = api.request(method, path, json=body, headers={"Authorization": "Bearer some-token"})
    assert reply.status_code == 503, reply.text
    assert reply.json()["detail"] == "the database is unreachable: nothing was saved; try again shortly"
    assert reply.headers["Retry-After"] == "5"


def test_health_reports_the_database_down(api: TestClient) -> None:
    reply = api.get("/api/v1/health")
    assert (reply.status_code, reply.json()) == (503, {"ok": False, "database": False, "warnings": []})
