"""Issue 20 item 9: hostile input is refused with a 4xx and a detail, never a 500 — a lone surrogate in
JSON (even without a token), NUL deep inside nested JSON, extreme report dates and callback times, and a
flow draft nested ten thousand deep (YAML recursion)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from ivr.validation import FlowCatalogue, parse_flow_text
from services.ivr_versions import IvrAdmin
from tests.conftest import Installer

JSON = {"Content-Type": "application/json"}
CATALOGUE = FlowCatalogue(("hotline-general", "hotline-business", "hotline-leaders"), ("110", "119", "120"))


def refused_with_detail(reply) -> None:
    assert 400 <= reply.status_code < 500, (reply.status_code, reply.text[:300])
    assert reply.json().get("detail"), reply.text[:300]


def test_a_lone_surrogate_in_a_login_is_refused_without_a_token(api: TestClient) -> None:
    reply = api.post("/api/v1/auth/login", content=b'{"username": "\\ud800", "password": "x"}', headers=JSON)
    refused_with_detail(reply)


def test_a_lone_surrogate_in_a_ticket_is_refused(api: TestClient, login: Callable[..., dict[str, str]]) -> None:
    body = b'{"request_type": "complaint", "content": "\\udfff\\u6cb9\\u70df\\u6270\\u6c11"}'
    reply = api.post("/api/v1/tickets", content=body, headers={**JSON, **login("agent")})
    refused_with_detail(reply)


def test_nul_deep_inside_nested_json_is_refused(api: TestClient) -> None:
    body = ("[" * 1000 + '"\\u0000"' + "]" * 1000).encode()
    reply = api.post("/api/v1/auth/login", content=body, headers=JSON)
    refused_with_detail(reply)


@pytest.mark.parametrize(
    "query",
    [
        "/api/v1/reports/kpis?start=9999-12-31&end=9999-12-31",
        "/api/v1/reports/kpis?start=0001-01-01&end=0001-01-01",
        "/api/v1/reports/daily?day=9999-12-31",
        "/api/v1/reports/daily?day=0001-01-01",
    ],
)
def test_extreme_report_dates_are_refused(api: TestClient, login: Callable[..., dict[str, str]], query: str) -> None:
    refused_with_detail(api.get(query, headers=login("supervisor")))


def test_a_callback_due_before_year_one_in_utc_is_refused(
    api: TestClient, login: Callable[..., dict[str, str]]
) -> None:
    reply = api.post(
        "/api/v1/callbacks",
        json={"caller_number": "13800138000", "due_at": "0001-01-01T00:00:00+14:00"},
        headers=login("agent"),
    )
    refused_with_detail(reply)


def test_a_flow_draft_nested_ten_thousand_deep_is_refused(
    make_api: Callable[..., TestClient], sessions, installer: Installer, login: Callable[..., dict[str, str]]
) -> None:
    api = make_api(ivr=IvrAdmin(sessions, lambda source: parse_flow_text(source, CATALOGUE), installer))
    admin = login("admin", client=api)
    reply = api.post("/api/v1/admin/ivr/versions", json={"source": "[" * 10000}, headers=admin)
    refused_with_detail(reply)
