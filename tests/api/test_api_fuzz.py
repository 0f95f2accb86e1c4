"""schemathesis over the OpenAPI description: requests generated from every route's schema, sent
as an admin and as an agent, never get a server error; every refusal is a 4xx with a `detail`."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

schemathesis.openapi.media_type("audio/wav", st.binary(max_size=4096))  # prompt uploads: arbitrary bytes
schema = schemathesis.pytest.from_fixture("api_schema")
NEEDS_TELEPHONY = "Asterisk"  # without call control (no Asterisk in these tests) those routes say 503 so


@pytest.fixture
def api_schema(api: TestClient):
    return schemathesis.openapi.from_asgi("/openapi.json", api.app)


@pytest.fixture
def users(login: Callable[..., dict[str, str]]) -> list[dict[str, str]]:
    return [login("admin"), login("agent")]


@schema.parametrize()
@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_no_request_gets_a_server_error(case, users: list[dict[str, str]]) -> None:
    for who in users:
        reply = case.call(headers={**(case.headers or {}), **who})
        where = f"{case.method} {case.formatted_path} -> {reply.status_code}: {reply.text[:300]}"
        if reply.status_code == 503:
            assert NEEDS_TELEPHONY in reply.json()["detail"], where
        else:
            assert reply.status_code < 500, where
        if reply.status_code >= 400:
            assert reply.json().get("detail"), where
