"""IVR flow versions through the admin API, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection
from sqlalchemy.orm import Session

from agent_api.app import create_app
from agent_api.context import ApiContext
from ivr.validation import FlowCatalogue, parse_flow_text
from services.ivr_versions import IvrAdmin
from telephony.prompts import PromptRenderError
from tests.conftest import Installer

BASE = "/api/v1/admin/ivr"
DEFAULT = (Path(__file__).resolve().parents[2] / "ivr" / "flows" / "default.yaml").read_text(encoding="utf-8")
HOLIDAY = DEFAULT.replace("您好，这里是一二三四五政务服务便民热线。", "您好，节日期间热线照常服务。")
CATALOGUE = FlowCatalogue(("hotline-general", "hotline-business", "hotline-leaders"), ("110", "119", "120"))
ROUTES = [
    ("GET", "/versions"),
    ("POST", "/versions"),
    ("GET", "/versions/1"),
    ("POST", "/versions/1/publish"),
    ("POST", "/rollback"),
    ("GET", "/diff?from_version=1&to_version=1"),
    ("GET", "/audit"),
    ("GET", "/live"),
    ("POST", "/versions/1/simulate"),
]


@pytest.fixture
def sessions(connection: Connection) -> Callable[[], Session]:
    return lambda: Session(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)


@pytest.fixture
def api(sessions: Callable[[], Session], installer: Installer) -> TestClient:
    """tests/api/conftest.py's client, with IVR versions."""
    ivr = IvrAdmin(sessions, lambda source: parse_flow_text(source, CATALOGUE), installer)
    ctx = ApiContext(sessions=sessions, health=lambda: {"asterisk": True, "database": True, "agi": True}, ivr=ivr)
    return TestClient(create_app(ctx))


@pytest.fixture
def admin(login: Callable[..., dict[str, str]]) -> dict[str, str]:
    return login("admin", username="admin-li")


def draft(api: TestClient, who: dict[str, str], source: str, note: str = "") -> dict:
    reply = api.post(f"{BASE}/versions", json={"source": source, "note": note}, headers=who)
    assert reply.status_code == 201, reply.text
    return reply.json()


def test_a_draft_published_becomes_live(api: TestClient, admin: dict[str, str], installer: Installer) -> None:
    drafted = draft(api, admin, DEFAULT, "默认流程")
    assert (drafted["status"], drafted["errors"], drafted["note"], drafted["created_by"]) == (
        "draft",
        [],
        "默认流程",
        "admin-li",
    )
    assert api.get(f"{BASE}/live", headers=admin).status_code == 404
    number = drafted["number"]

    published = api.post(f"{BASE}/versions/{number}/publish", headers=admin)
    assert published.status_code == 200, published.text
    assert published.json()["status"] == "live" and installer.installed == [DEFAULT]
    live = api.get(f"{BASE}/live", headers=admin).json()
    assert (live["number"], live["source"], live["errors"]) == (number, DEFAULT, [])
    assert [(v["number"], v["status"]) for v in api.get(f"{BASE}/versions", headers=admin).json()] == [(number, "live")]
    audit = api.get(f"{BASE}/audit", headers=admin).json()
    assert [(e["actor"], e["action"], e["version"]) for e in audit] == [
        ("admin-li", "publish", number),
        ("admin-li", "draft", number),
    ]


def test_an_invalid_flow_is_kept_but_cannot_be_published(
    api: TestClient, admin: dict[str, str], installer: Installer
) -> None:
    general = "  general:\n    type: queue\n    queue: hotline-general\n"
    source = DEFAULT.replace(general, general.replace("hotline-general", "hotline-nowhere"))
    drafted = draft(api, admin, source)
    assert [e["where"] for e in drafted["errors"]] == ["nodes.general.queue"]
    assert "hotline-nowhere" in drafted["errors"][0]["problem"]
    shown = api.get(f"{BASE}/versions/{drafted['number']}", headers=admin).json()
    assert (shown["source"], shown["errors"], shown["status"]) == (source, drafted["errors"], "draft")

    refused = api.post(f"{BASE}/versions/{drafted['number']}/publish", headers=admin)
    assert refused.status_code == 422
    assert "invalid" in refused.json()["detail"] and refused.json()["errors"] == drafted["errors"]
    assert installer.installed == [] and api.get(f"{BASE}/live", headers=admin).status_code == 404


def test_empty_and_oversized_sources_are_refused(api: TestClient, admin: dict[str, str]) -> None:
    for source in ("", "#" * 200_001):
        reply = api.post(f"{BASE}/versions", json={"source": source}, headers=admin)
        assert reply.status_code == 422 and ("empty" in reply.text or "at most 200000" in reply.text), reply.text
    assert api.get(f"{BASE}/versions", headers=admin).json() == []


def test_unknown_live_and_failed_publishes(api: TestClient, admin: dict[str, str], installer: Installer) -> None:
    first = draft(api, admin, DEFAULT)["number"]
    assert api.post(f"{BASE}/versions/{first + 1}/publish", headers=admin).status_code == 404
    assert api.get(f"{BASE}/versions/{first + 1}", headers=admin).status_code == 404
    api.post(f"{BASE}/versions/{first}/publish", headers=admin)
    again = api.post(f"{BASE}/versions/{first}/publish", headers=admin)
    assert again.status_code == 409 and "already live" in again.json()["detail"]

    second = draft(api, admin, HOLIDAY)["number"]
    installer.failure = PromptRenderError("sox failed for prompt '您好'")
    failed = api.post(f"{BASE}/versions/{second}/publish", headers=admin)
    assert failed.status_code == 502 and "sox failed" in failed.json()["detail"]
    assert api.get(f"{BASE}/live", headers=admin).json()["number"] == first


def test_rollback_and_diff(api: TestClient, admin: dict[str, str], installer: Installer) -> None:
    first, second = draft(api, admin, DEFAULT)["number"], draft(api, admin, HOLIDAY)["number"]
    assert api.post(f"{BASE}/rollback", headers=admin).status_code == 409  # nothing live yet
    for number in (first, second):
        api.post(f"{BASE}/versions/{number}/publish", headers=admin)

    back = api.post(f"{BASE}/rollback", headers=admin)
    assert back.status_code == 200 and (back.json()["number"], back.json()["status"]) == (first, "live")
    assert installer.installed == [DEFAULT, HOLIDAY, DEFAULT]
    never = draft(api, admin, HOLIDAY)["number"]
    refused = api.post(f"{BASE}/rollback", json={"to": never}, headers=admin)
    assert refused.status_code == 409 and "never live" in refused.json()["detail"]
    assert api.post(f"{BASE}/rollback", json={"to": second}, headers=admin).json()["number"] == second

    diff = api.get(f"{BASE}/diff", params={"from_version": first, "to_version": second}, headers=admin).json()
    assert (diff["from_version"], diff["to_version"], diff["prompts_changed"], diff["changed"]) == (
        first,
        second,
        ["greeting"],
        [],
    )
    assert diff["unified"].startswith(f"--- version {first}\n+++ version {second}\n")
    missing = api.get(f"{BASE}/diff", params={"from_version": first, "to_version": never + 1}, headers=admin)
    assert missing.status_code == 404
    assert [e["action"] for e in api.get(f"{BASE}/audit?limit=2", headers=admin).json()] == ["rollback", "draft"]


def test_only_admins_may(api: TestClient, login: Callable[..., dict[str, str]]) -> None:
    staff = [login("agent"), login("supervisor"), login("department", unit_code="zjj")]
    for method, path in ROUTES:
        body = {"source": DEFAULT} if (method, path) == ("POST", "/versions") else None
        assert api.request(method, f"{BASE}{path}", json=body).status_code == 401, path
        for who in staff:
            reply = api.request(method, f"{BASE}{path}", json=body, headers=who)
            assert reply.status_code == 403, (method, path, reply.text)


def test_without_versions_the_routes_say_so(sessions: Callable[[], Session], admin: dict[str, str]) -> None:
    bare = TestClient(create_app(ApiContext(sessions=sessions, health=lambda: {})))
    for method, path in ROUTES:
        body = {"source": DEFAULT} if (method, path) == ("POST", "/versions") else None
        reply = bare.request(method, f"{BASE}{path}", json=body, headers=admin)
        assert reply.status_code == 503 and "not available" in reply.json()["detail"], (method, path)


def test_a_version_is_simulated_with_keys_time_and_caller(api: TestClient, admin: dict[str, str]) -> None:
    number = draft(api, admin, DEFAULT)["number"]
    reply = api.post(
        f"{BASE}/versions/{number}/simulate",
        headers=admin,
        json={
            "keys": ["9", "2026120100001", "0", "7"],
            "time": "2026-10-01T10:00:00",
            "caller": "13912345678",
            "tickets": {"2026120100001": "已派单"},
            "queue_waiting": 2,
        },
    )
    assert reply.status_code == 200, reply.text
    run = reply.json()
    assert (run["action"], run["queue"], run["path"]) == (
        "queue",
        "hotline-general",
        ["greeting", "ticket_lookup", "ticket_more", "general"],
    )
    assert "say 工单号 2 0 2 6 1 2 0 1 0 0 0 0 1，当前状态：已派单。" in run["events"]
    assert run["events"][-1] == "say 您前面还有2位来电。"
    assert run["inputs_left"] == ["7"]


def test_simulating_an_invalid_or_unknown_version_says_why(api: TestClient, admin: dict[str, str]) -> None:
    broken = draft(
        api, admin, DEFAULT.replace("queue: hotline-general\n    priority: 0", "queue: nowhere\n    priority: 0")
    )
    reply = api.post(f"{BASE}/versions/{broken['number']}/simulate", headers=admin, json={})
    assert reply.status_code == 422
    assert [e["where"] for e in reply.json()["errors"]] == ["nodes.general.queue"]
    assert api.post(f"{BASE}/versions/999/simulate", headers=admin, json={}).status_code == 404
