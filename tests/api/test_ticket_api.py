"""The ticket lifecycle through the API, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

DEPARTMENTS = [
    {"code": "zjj", "name": "市住建局", "duties": "物业管理、房屋安全", "keywords": ["物业", "电梯"]},
    {"code": "zjj-wy", "name": "物业科", "duties": "物业服务监管", "parent": "zjj"},
    {"code": "cgj", "name": "城管执法局", "duties": "占道经营、油烟、噪音执法", "keywords": ["占道经营", "油烟"]},
]
TICKET = {
    "request_type": "complaint",
    "content": "小区电梯坏了一个星期，物业一直不修。",
    "caller_number": "13800138000",
    "caller_name": "王女士",
    "district": "鼓楼区",
    "street": "东街街道",
}
REPLY = {
    "response": "已督促物业更换电梯主板",
    "handling_unit": "市住建局",
    "handled_at": "2026-11-20T10:00:00+08:00",
    "method": "现场核查",
    "process": "约谈物业公司，限期维修",
    "result": "电梯已恢复运行",
}


@pytest.fixture
def staff(api: TestClient, login: Callable[..., dict[str, str]]) -> dict[str, dict[str, str]]:
    people = {
        "agent": login("agent"),
        "supervisor": login("supervisor"),
        "admin": login("admin"),
        "zjj": login("department", unit_code="zjj"),
        "cgj": login("department", unit_code="cgj"),
    }
    assert api.put("/api/v1/departments", json=DEPARTMENTS, headers=people["admin"]).status_code == 200
    return people


def act(api: TestClient, who: dict[str, str], number: str, **command) -> dict:
    reply = api.post(f"/api/v1/tickets/{number}/actions", json=command, headers=who)
    assert reply.status_code == 200, reply.text
    return reply.json()


def test_a_complaint_goes_from_intake_to_closed(api: TestClient, staff) -> None:
    created = api.post("/api/v1/tickets", json=TICKET, headers=staff["agent"])
    assert created.status_code == 201, created.text
    ticket = created.json()
    number = ticket["number"]
    assert len(number) == 13 and number.isdigit() and ticket["status"] == "draft"
    assert ticket["deadline_at"] is not None

    act(api, staff["agent"], number, action="accept")
    dispatched = act(api, staff["agent"], number, action="dispatch", unit_code="zjj")
    assert dispatched["sla"] == "ok"  # 15 working days for a complaint, just started
    act(api, staff["zjj"], number, action="sign")
    act(api, staff["zjj"], number, action="reply", reply=REPLY)
    act(api, staff["agent"], number, action="visit", satisfaction="satisfied", unit_at_fault=False)
    closed = act(api, staff["agent"], number, action="close")
    assert closed["status"] == "closed" and closed["sla"] is None

    trail = api.get(f"/api/v1/tickets/{number}/audit", headers=staff["supervisor"]).json()
    assert [(e["action"], e["to"]) for e in trail] == [
        ("create", "draft"),
        ("accept", "accepted"),
        ("dispatch", "dispatched"),
        ("sign", "signed"),
        ("reply", "replied"),
        ("visit", "visited"),
        ("close", "closed"),
    ]
    assert trail[3]["actor"] == "department-zjj"

    public = api.get("/api/v1/public/progress", params={"number": number, "phone": "13800138000"})
    assert public.status_code == 200
    assert public.json()["status"] == "已办结" and "王女士" not in public.text and "13800138000" not in public.text
    wrong_phone = api.get("/api/v1/public/progress", params={"number": number, "phone": "13900000000"})
    assert wrong_phone.status_code == 404


def test_ticket_numbers_follow_each_other(api: TestClient, staff) -> None:
    first = api.post("/api/v1/tickets", json=TICKET, headers=staff["agent"]).json()["number"]
    second = api.post("/api/v1/tickets", json=TICKET, headers=staff["agent"]).json()["number"]
    assert int(second) == int(first) + 1


def test_illegal_transition_is_409_listing_the_allowed_actions(api: TestClient, staff) -> None:
    number = api.post("/api/v1/tickets", json=TICKET, headers=staff["agent"]).json()["number"]
    reply = api.post(f"/api/v1/tickets/{number}/actions", json={"action": "close"}, headers=staff["agent"])
    assert reply.status_code == 409
    assert set(reply.json()["allowed_actions"]) >= {"accept", "reject"}


def test_reply_missing_parts_is_422_naming_them(api: TestClient, staff) -> None:
    number = api.post("/api/v1/tickets", json=TICKET, headers=staff["agent"]).json()["number"]
    act(api, staff["agent"], number, action="accept")
    act(api, staff["agent"], number, action="dispatch", unit_code="zjj")
    act(api, staff["zjj"], number, action="sign")
    partial = {k: v for k, v in REPLY.items() if k not in ("method", "result")}
    reply = api.post(
        f"/api/v1/tickets/{number}/actions", json={"action": "reply", "reply": partial}, headers=staff["zjj"]
    )
    assert reply.status_code == 422
    assert reply.json()["missing"] == ["method", "result"]
    # nothing half-written: the ticket is still signed, with no reply
    assert api.get(f"/api/v1/tickets/{number}", headers=staff["zjj"]).json()["status"] == "signed"


def test_departments_see_only_their_tickets_and_no_confidential_identity(api: TestClient, staff) -> None:
    number = api.post("/api/v1/tickets", json={**TICKET, "confidential": True}, headers=staff["agent"]).json()["number"]
    act(api, staff["agent"], number, action="accept")
    act(api, staff["agent"], number, action="dispatch", unit_code="zjj")

    seen = api.get(f"/api/v1/tickets/{number}", headers=staff["zjj"]).json()
    assert seen["caller_name"] == "保密" and seen["caller_number"] is None
    assert api.get(f"/api/v1/tickets/{number}", headers=staff["agent"]).json()["caller_number"] == "13800138000"
    assert api.get(f"/api/v1/tickets/{number}", headers=staff["cgj"]).status_code == 404
    assert number not in [t["number"] for t in api.get("/api/v1/tickets", headers=staff["cgj"]).json()]
    assert number in [t["number"] for t in api.get("/api/v1/tickets", headers=staff["zjj"]).json()]
    reply = api.post(f"/api/v1/tickets/{number}/actions", json={"action": "sign"}, headers=staff["cgj"])
    assert reply.status_code == 404


def test_unknown_ticket_and_unknown_department_are_404(api: TestClient, staff) -> None:
    assert api.get("/api/v1/tickets/2026010100001", headers=staff["agent"]).status_code == 404
    number = api.post("/api/v1/tickets", json=TICKET, headers=staff["agent"]).json()["number"]
    act(api, staff["agent"], number, action="accept")
    reply = api.post(
        f"/api/v1/tickets/{number}/actions", json={"action": "dispatch", "unit_code": "nope"}, headers=staff["agent"]
    )
    assert reply.status_code == 404 and "nope" in reply.json()["detail"]


def test_triage_ranks_the_responsible_department(api: TestClient, staff) -> None:
    reply = api.post("/api/v1/triage", json={"text": "楼下烧烤店占道经营，油烟熏得没法开窗"}, headers=staff["agent"])
    assert reply.status_code == 200
    assert reply.json()["departments"][0]["code"] == "cgj"


def test_invalid_department_file_is_422_with_every_error(api: TestClient, staff) -> None:
    bad = [{"code": "a", "name": "A"}, {"code": "a", "name": "B", "duties": 3}]
    reply = api.put("/api/v1/departments", json=bad, headers=staff["admin"])
    assert reply.status_code == 422
    assert reply.json()["error"] == "departments_invalid"
    assert reply.json()["errors"] == [
        "[0] (code 'a').duties: missing",
        "[1] (code 'a').duties: expected a string, got int",
    ]
    orphan = [{"code": "b", "name": "B", "duties": "x", "parent": "ghost"}]
    reply = api.put("/api/v1/departments", json=orphan, headers=staff["admin"])
    assert reply.status_code == 422 and "ghost" in reply.json()["errors"][0]
    # the tree in force is unchanged
    assert {d["code"] for d in api.get("/api/v1/departments", headers=staff["agent"]).json()} == {
        "zjj",
        "zjj-wy",
        "cgj",
    }


def test_repeat_requests_from_the_same_caller_are_duplicate_candidates(api: TestClient, staff) -> None:
    first = api.post("/api/v1/tickets", json=TICKET, headers=staff["agent"]).json()["number"]
    again = {**TICKET, "content": "小区电梯坏了一个星期了，物业还是不修，请尽快处理。"}
    second = api.post("/api/v1/tickets", json=again, headers=staff["agent"]).json()["number"]
    other = {
        **TICKET,
        "caller_number": "13911112222",
        "district": "台江区",
        "street": "洋中街道",
        "content": "路灯不亮",
    }
    api.post("/api/v1/tickets", json=other, headers=staff["agent"])
    found = api.get(f"/api/v1/tickets/{second}/duplicates", headers=staff["agent"]).json()
    assert [d["number"] for d in found] == [first]
    assert found[0]["reason"] == "same caller" and found[0]["similarity"] >= 60


def test_urgent_ticket_tracks_contact_and_arrival(api: TestClient, staff) -> None:
    urgent = {**TICKET, "content": "小区燃气管道漏气，味道很大", "urgent": True, "request_type": "help"}
    number = api.post("/api/v1/tickets", json=urgent, headers=staff["agent"]).json()["number"]
    act(api, staff["agent"], number, action="accept")
    dispatched = act(api, staff["agent"], number, action="dispatch", unit_code="zjj")
    assert dispatched["urgent_state"] == "awaiting_contact"
    assert act(api, staff["zjj"], number, action="record_contact")["urgent_state"] == "contacted"
    assert act(api, staff["zjj"], number, action="record_on_site")["urgent_state"] == "on_site"
