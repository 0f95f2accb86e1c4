"""The live websocket admits only signed-in staff who have live events, and call control answers
503 in an API process that runs without Asterisk."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect


@pytest.mark.parametrize("token", ["", "not-a-token"])
def test_live_socket_refuses_without_a_valid_token(api: TestClient, token: str) -> None:
    with pytest.raises(WebSocketDisconnect) as refused, api.websocket_connect(f"/api/v1/live?token={token}") as ws:
        ws.receive_json()
    assert refused.value.code == 1008


def test_department_users_have_no_live_events(api: TestClient, login: Callable[..., dict[str, str]]) -> None:
    token = login("department", "D001")["Authorization"].removeprefix("Bearer ")
    with pytest.raises(WebSocketDisconnect) as refused, api.websocket_connect(f"/api/v1/live?token={token}") as ws:
        ws.receive_json()
    assert refused.value.code == 1008


def test_agent_socket_says_hello_with_a_header_token(api: TestClient, login: Callable[..., dict[str, str]]) -> None:
    headers = login("agent")
    with api.websocket_connect("/api/v1/live", headers=headers) as ws:
        assert ws.receive_json() == {"type": "hello", "user": "agent-centre", "role": "agent"}


def test_call_control_without_telephony_is_503(api: TestClient, login: Callable[..., dict[str, str]]) -> None:
    reply = api.post("/api/v1/agent/login", json={"extension": "8001"}, headers=login("agent"))
    assert reply.status_code == 503
    assert "not running" in reply.json()["detail"]
