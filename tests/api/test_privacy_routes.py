"""Who may call what, and who sees a caller: every route's roles, department users' view of tickets,
and where caller numbers go (tickets, reports, live screen-pops), on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import re
import secrets
from collections.abc import Callable
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Connection
from sqlalchemy.orm import Session

from agent_api.app import create_app
from agent_api.context import ApiContext
from agent_api.live_hub import Hub
from domain.agents import QueueBoard
from domain.calls import CallRecord
from domain.tickets import SHANGHAI
from storage.call_records import save_call_record
from storage.users import create_user, store_token
from telephony.cti import build_cti
from telephony.cti_config import CtiConfig, CtiHooks

AGENT, SUPERVISOR, ADMIN, DEPARTMENT = "agent", "supervisor", "admin", "department"
ROLES = (AGENT, SUPERVISOR, ADMIN, DEPARTMENT)
ANYONE = frozenset(ROLES)
CENTRE = frozenset({AGENT, SUPERVISOR})
MANAGERS = frozenset({SUPERVISOR, ADMIN})
ADMINS = frozenset({ADMIN})
NOT_DEPARTMENTS = frozenset({AGENT, SUPERVISOR, ADMIN})

PUBLIC = {("GET", "/api/v1/health"), ("GET", "/api/v1/public/progress"), ("POST", "/api/v1/auth/login")}
# The roles each route admits; a new route fails the test below until it is given its roles here.
ROUTE_ROLES: dict[tuple[str, str], frozenset[str]] = {
    ("POST", "/api/v1/auth/logout"): ANYONE,
    ("GET", "/api/v1/auth/me"): ANYONE,
    ("GET", "/api/v1/barred-callers"): NOT_DEPARTMENTS,
    ("POST", "/api/v1/barred-callers"): MANAGERS,
    ("GET", "/api/v1/departments"): ANYONE,
    ("PUT", "/api/v1/departments"): ADMINS,
    ("POST", "/api/v1/triage"): NOT_DEPARTMENTS,
    ("GET", "/api/v1/knowledge/search"): ANYONE,
    ("POST", "/api/v1/knowledge"): MANAGERS,
    ("GET", "/api/v1/knowledge/{entry_id}"): ANYONE,
    ("PUT", "/api/v1/knowledge/{entry_id}"): MANAGERS,
    ("POST", "/api/v1/knowledge/{entry_id}/retire"): MANAGERS,
    ("POST", "/api/v1/knowledge/import"): MANAGERS,
    ("POST", "/api/v1/tickets"): CENTRE,
    ("GET", "/api/v1/tickets"): ANYONE,
    ("GET", "/api/v1/ticket-receipts/{receipt}"): CENTRE,
    ("GET", "/api/v1/tickets/{number}"): ANYONE,
    ("GET", "/api/v1/tickets/{number}/audit"): ANYONE,
    ("POST", "/api/v1/tickets/{number}/actions"): CENTRE | {DEPARTMENT},
    ("GET", "/api/v1/tickets/{number}/duplicates"): CENTRE,
    ("GET", "/api/v1/callbacks"): CENTRE,
    ("POST", "/api/v1/callbacks"): CENTRE,
    ("GET", "/api/v1/callbacks/{callback_id}"): CENTRE,
    ("POST", "/api/v1/callbacks/{callback_id}/claim"): CENTRE,
    ("POST", "/api/v1/callbacks/{callback_id}/attempts"): CENTRE,
    ("POST", "/api/v1/callbacks/{callback_id}/cancel"): frozenset({SUPERVISOR}),
    ("POST", "/api/v1/callbacks/{callback_id}/call"): CENTRE,
    ("GET", "/api/v1/reports/kpis"): MANAGERS,
    ("GET", "/api/v1/reports/daily"): MANAGERS,
    ("GET", "/api/v1/reports/drafts"): MANAGERS,
    ("GET", "/api/v1/agent/state"): CENTRE,
    ("POST", "/api/v1/agent/login"): CENTRE,
    ("POST", "/api/v1/agent/pause"): CENTRE,
    ("POST", "/api/v1/agent/unpause"): CENTRE,
    ("POST", "/api/v1/agent/logout"): CENTRE,
    ("GET", "/api/v1/agents"): MANAGERS,
    ("GET", "/api/v1/wallboard"): MANAGERS,
    **{
        ("POST", f"/api/v1/calls/{{call_id}}/{action}"): CENTRE
        for action in (
            "hangup",
            "hold",
            "unhold",
            "transfer",
            "consult",
            "consult/complete",
            "consult/cancel",
            "conference",
            "conference/leave",
            "emergency",
        )
    },
    **{
        (method, f"/api/v1/admin/ivr/{path}"): ADMINS
        for method, path in (
            ("GET", "versions"),
            ("POST", "versions"),
            ("GET", "versions/{number}"),
            ("POST", "versions/{number}/publish"),
            ("POST", "rollback"),
            ("GET", "diff"),
            ("GET", "audit"),
            ("GET", "live"),
            ("POST", "versions/{number}/simulate"),
            ("PUT", "audio/{name}"),
            ("GET", "audio"),
        )
    },
    ("GET", "/api/v1/admin/calendar/years"): MANAGERS,
    ("GET", "/api/v1/admin/calendar/years/{year}"): MANAGERS,
    ("GET", "/api/v1/admin/calendar/status"): MANAGERS,
    ("POST", "/api/v1/admin/calendar/preview"): ADMINS,
    ("POST", "/api/v1/admin/calendar/notices"): ADMINS,
}

DEPARTMENTS = [
    {"code": "zjj", "name": "市住建局", "duties": "物业管理、房屋安全", "keywords": ["物业", "电梯"]},
    {"code": "zjj-wy", "name": "物业科", "duties": "物业服务监管", "parent": "zjj"},
    {"code": "cgj", "name": "城管执法局", "duties": "占道经营、油烟、噪音执法", "keywords": ["占道经营", "油烟"]},
]
NUMBER, NAME = "13800138000", "王女士"
TICKET = {
    "request_type": "report",
    "content": "举报小区电梯维保公司伪造检验记录。",
    "caller_number": NUMBER,
    "caller_name": NAME,
    "district": "鼓楼区",
    "street": "东街街道",
}


@pytest.fixture
def token_of(connection: Connection) -> Callable[[str], dict[str, str]]:
    """A fresh token per request for one user of each role (the department user is zjj's), so a
    route that revokes its token (logout) does not turn the next requests into 401s."""
    with Session(bind=connection, join_transaction_mode="create_savepoint") as session, session.begin():
        ids = {
            role: create_user(session, f"matrix-{role}", "-", role, role, "zjj" if role == DEPARTMENT else None).id
            for role in ROLES
        }

    def mint(role: str) -> dict[str, str]:
        token, now = secrets.token_urlsafe(24), datetime.now(UTC)
        with Session(bind=connection, join_transaction_mode="create_savepoint") as session, session.begin():
            store_token(session, token, ids[role], now, now + timedelta(hours=1))
        return {"Authorization": f"Bearer {token}"}

    return mint


def test_every_route_admits_exactly_its_roles(api: TestClient, token_of: Callable[[str], dict[str, str]]) -> None:
    app = api.app
    assert isinstance(app, FastAPI)
    operations = {(method.upper(), path) for path, methods in app.openapi()["paths"].items() for method in methods}
    assert operations - PUBLIC == set(ROUTE_ROLES), "routes added or removed: give each its roles in ROUTE_ROLES"
    for (method, path), allowed in sorted(ROUTE_ROLES.items()):
        for role in ROLES:
            reply = api.request(method, re.sub(r"\{[^}]+\}", "1", path), headers=token_of(role))
            refused = reply.status_code == 403 and reply.json()["detail"].startswith(f"role {role} may not do this")
            assert refused is (role not in allowed), (method, path, role, reply.status_code, reply.text[:200])


@pytest.fixture
def staff(api: TestClient, login: Callable[..., dict[str, str]]) -> dict[str, dict[str, str]]:
    people = {
        "agent": login(AGENT),
        "admin": login(ADMIN),
        "zjj": login(DEPARTMENT, unit_code="zjj"),
        "zjj-wy": login(DEPARTMENT, unit_code="zjj-wy"),
        "cgj": login(DEPARTMENT, unit_code="cgj"),
    }
    assert api.put("/api/v1/departments", json=DEPARTMENTS, headers=people["admin"]).status_code == 200
    return people


def _act(api: TestClient, who: dict[str, str], number: str, **command) -> str:
    reply = api.post(f"/api/v1/tickets/{number}/actions", json=command, headers=who)
    assert reply.status_code == 200, reply.text
    return reply.text


def _dispatched(api: TestClient, agent: dict[str, str], unit: str, **fields) -> str:
    created = api.post("/api/v1/tickets", json={**TICKET, **fields}, headers=agent)
    assert created.status_code == 201, created.text
    number = created.json()["number"]
    _act(api, agent, number, action="accept")
    _act(api, agent, number, action="dispatch", unit_code=unit)
    return number


def test_no_department_reply_carries_a_confidential_callers_identity(api: TestClient, staff) -> None:
    number = _dispatched(api, staff["agent"], "zjj", confidential=True)

    texts = [
        api.get("/api/v1/tickets", headers=staff["zjj"]).text,
        api.get(f"/api/v1/tickets/{number}", headers=staff["zjj"]).text,
        api.get(f"/api/v1/tickets/{number}/audit", headers=staff["zjj"]).text,
        _act(api, staff["zjj"], number, action="sign"),
        _act(api, staff["zjj"], number, action="pass_down", unit_code="zjj-wy"),
        api.get("/api/v1/tickets", headers=staff["zjj-wy"]).text,
        api.get(f"/api/v1/tickets/{number}", headers=staff["zjj-wy"]).text,
    ]

    assert number in texts[0] and number in texts[5]  # both units do see the ticket itself
    for text in texts:
        assert NUMBER not in text and NAME not in text, text
    listed = api.get("/api/v1/tickets", headers=staff["zjj-wy"]).json()
    assert [(t["caller_name"], t["caller_number"], t["confidential"]) for t in listed] == [("保密", None, True)]
    centre = api.get(f"/api/v1/tickets/{number}", headers=staff["agent"]).json()
    assert (centre["caller_name"], centre["caller_number"]) == (NAME, NUMBER)


def test_admins_see_caller_numbers_masked(api: TestClient, staff) -> None:
    plain = _dispatched(api, staff["agent"], "zjj")
    confidential = _dispatched(api, staff["agent"], "zjj", confidential=True)

    texts = [api.get("/api/v1/tickets", headers=staff["admin"]).text] + [
        api.get(f"/api/v1/tickets/{n}", headers=staff["admin"]).text for n in (plain, confidential)
    ]

    for text in texts:
        assert NUMBER not in text, text
    shown = {
        t["number"]: (t["caller_name"], t["caller_number"])
        for t in api.get("/api/v1/tickets", headers=staff["admin"]).json()
    }
    assert shown == {plain: (NAME, "138****8000"), confidential: ("保密", "138****8000")}


def test_another_unit_learns_nothing_of_a_ticket_not_sent_to_it(api: TestClient, staff) -> None:
    number = _dispatched(api, staff["agent"], "zjj")

    assert number not in api.get("/api/v1/tickets", headers=staff["cgj"]).text
    assert number not in api.get("/api/v1/tickets", headers=staff["zjj-wy"]).text  # not passed down to it
    for path in (f"/api/v1/tickets/{number}", f"/api/v1/tickets/{number}/audit"):
        reply = api.get(path, headers=staff["cgj"])
        assert (reply.status_code, reply.json()["detail"]) == (404, f"no ticket {number}"), path
    signed = api.post(f"/api/v1/tickets/{number}/actions", json={"action": "sign"}, headers=staff["cgj"])
    assert signed.status_code == 404


def test_a_department_user_without_a_unit_sees_no_tickets(api: TestClient, staff, login) -> None:
    number = _dispatched(api, staff["agent"], "cgj")

    listed = api.get("/api/v1/tickets", headers=login(DEPARTMENT, username="department-no-unit"))

    assert (listed.status_code, listed.json()) == (
        403,
        {"error": "department_without_unit", "detail": "this department account has no unit: an admin must set one"},
    )
    assert number not in listed.text and NUMBER not in listed.text


def test_reports_carry_no_caller_numbers(api: TestClient, staff, login, connection: Connection) -> None:
    now = datetime.now(UTC)
    _dispatched(api, staff["agent"], "zjj")
    with Session(bind=connection, join_transaction_mode="create_savepoint") as session, session.begin():
        save_call_record(
            session,
            CallRecord(
                "1700000000.1",
                caller=NUMBER,
                started_at=now - timedelta(minutes=5),
                route_action="queue",
                queue="hotline-general",
                queue_joined_at=now - timedelta(minutes=4),
                answered_at=now - timedelta(minutes=3),
                ended_at=now,
                wait_seconds=60,
                agent="8001",
                talk_seconds=180,
            ),
        )
    today = (now - timedelta(minutes=5)).astimezone(SHANGHAI).date().isoformat()  # the call's day
    supervisor = login(SUPERVISOR)

    replies = [
        api.get("/api/v1/reports/kpis", params={"start": today, "end": today}, headers=supervisor),
        api.get("/api/v1/reports/daily", params={"day": today}, headers=supervisor),
        api.get("/api/v1/reports/drafts", params={"start": today, "end": today}, headers=supervisor),
    ]

    assert [r.status_code for r in replies] == [200, 200, 200]
    assert replies[0].json()["calls"]["calls_answered"] == 1  # the call was counted, its caller not shown
    for reply in replies:
        assert NUMBER not in reply.text, reply.text


class _Ami:
    """What call control reads of the AMI client when no action is sent."""

    connected = True


def test_a_screen_pop_with_the_callers_number_reaches_only_the_offered_agent(
    connection: Connection, login: Callable[..., dict[str, str]]
) -> None:
    def sessions() -> Session:
        return Session(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)

    hub = Hub()
    config = CtiConfig(
        frozenset({"8001", "8002"}),
        {"general": "hotline-general"},
        frozenset({"hotline-general"}),
        frozenset({"110"}),
        {"general": 0},
    )
    hooks = CtiHooks(department_phone=lambda code: None)
    cti = build_cti(_Ami(), QueueBoard(config.wrapup_seconds), config, hooks, hub.publish)  # type: ignore[arg-type]
    api = TestClient(create_app(ApiContext(sessions=sessions, health=dict, cti=cti, hub=hub)))
    tokens = {
        user: login(role, username=user)["Authorization"].removeprefix("Bearer ")
        for user, role in (("agent-a", AGENT), ("agent-b", AGENT), ("supervisor-s", SUPERVISOR))
    }
    member = {"Event": "QueueMemberAdded", "Queue": "hotline-general", "Penalty": "0", "Status": "1"}
    last = {"type": "telephony", "connected": False}  # what every desktop hears of HotlineAmiDisconnected
    events = [
        {**member, "Interface": "PJSIP/8001", "MemberName": "agent-a"},
        {**member, "Interface": "PJSIP/8002", "MemberName": "agent-b"},
        {
            "Event": "QueueCallerJoin",
            "Uniqueid": "1700000000.7",
            "Channel": "PJSIP/carrier-00000007",
            "CallerIDNum": NUMBER,
            "Queue": "hotline-general",
        },
        {"Event": "AgentCalled", "Uniqueid": "1700000000.7", "Interface": "PJSIP/8001"},
        {"Event": "HotlineAmiDisconnected"},
    ]

    with api, ExitStack() as stack:  # one event loop for the sockets, the hub and the CTI service
        sockets = {
            user: stack.enter_context(api.websocket_connect(f"/api/v1/live?token={token}"))
            for user, token in tokens.items()
        }
        assert all(ws.receive_json()["type"] == "hello" for ws in sockets.values())
        portal = api.portal
        assert portal is not None  # the client is running: `with api`
        queue: asyncio.Queue = portal.call(asyncio.Queue)
        running = portal.start_task_soon(cti.follower.run, queue)
        stack.callback(running.cancel)
        for event in events:
            portal.call(queue.put_nowait, event)
        heard = {user: list(iter(ws.receive_json, last)) for user, ws in sockets.items()}

    pops = [m for m in heard["agent-a"] if m["type"] == "screen_pop"]
    assert [(m["caller"], m["call_id"]) for m in pops] == [(NUMBER, "1700000000.7")]
    for user in ("agent-b", "supervisor-s"):
        assert all(NUMBER not in str(m) for m in heard[user]), (user, heard[user])
