from __future__ import annotations

from datetime import datetime

from fastapi.testclient import TestClient

from tests.api.conftest import PASSWORD


def test_login_with_wrong_password_is_401(api: TestClient, login) -> None:
    login("agent", username="agent8001")
    reply = api.post("/api/v1/auth/login", json={"username": "agent8001", "password": "wrong"})
    assert reply.status_code == 401 and reply.json()["detail"] == "wrong username or password"
    reply = api.post("/api/v1/auth/login", json={"username": "nobody", "password": "wrong"})
    assert reply.status_code == 401


def test_token_identifies_user_until_logout(api: TestClient, login) -> None:
    headers = login("department", unit_code="zjj")
    assert api.get("/api/v1/auth/me", headers=headers).json()["unit_code"] == "zjj"
    assert api.post("/api/v1/auth/logout", headers=headers).status_code == 204
    assert api.get("/api/v1/auth/me", headers=headers).status_code == 401


def test_routes_need_a_token(api: TestClient) -> None:
    assert api.get("/api/v1/barred-callers").status_code == 401
    assert api.get("/api/v1/barred-callers", headers={"Authorization": "Bearer forged"}).status_code == 401


def test_supervisor_bars_a_caller_for_30_days_and_agents_see_it(api: TestClient, login) -> None:
    supervisor = login("supervisor")
    reply = api.post(
        "/api/v1/barred-callers", headers=supervisor, json={"number": "13800138000", "reason": "多次辱骂话务员"}
    )
    assert reply.status_code == 201, reply.text
    bar = reply.json()
    assert bar["decided_by"] == "supervisor-centre"
    span = datetime.fromisoformat(bar["barred_until"]) - datetime.fromisoformat(bar["barred_from"])
    assert span.days == 30
    listed = api.get("/api/v1/barred-callers", headers=login("agent")).json()
    assert [b["number"] for b in listed] == ["13800138000"]


def test_agents_may_not_bar_and_bad_numbers_are_422(api: TestClient, login) -> None:
    reply = api.post("/api/v1/barred-callers", headers=login("agent"), json={"number": "13800138000", "reason": "x x"})
    assert reply.status_code == 403 and "needs supervisor or admin" in reply.json()["detail"]
    reply = api.post(
        "/api/v1/barred-callers", headers=login("supervisor"), json={"number": "13800abc", "reason": "辱骂"}
    )
    assert reply.status_code == 422


def test_repeated_wrong_passwords_are_throttled(api: TestClient, login) -> None:
    login("agent", username="agent8002")
    for _ in range(5):
        assert api.post("/api/v1/auth/login", json={"username": "agent8002", "password": "guess"}).status_code == 401
    refused = api.post("/api/v1/auth/login", json={"username": "agent8002", "password": PASSWORD})
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    # other users are not affected
    login("agent", username="agent8003")
