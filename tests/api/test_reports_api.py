"""KPIs and the daily report from tickets and calls stored through the API, on both databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Connection
from sqlalchemy.orm import Session

from domain.calls import CallRecord
from domain.tickets import SHANGHAI
from storage.call_records import save_call_record

TODAY = datetime.now(SHANGHAI).date()
DEPARTMENTS = [{"code": "zjj", "name": "市住建局", "duties": "物业管理", "keywords": ["物业"]}]
REPLY = {
    "response": "已修复",
    "handling_unit": "市住建局",
    "handled_at": "2026-11-20T10:00:00+08:00",
    "method": "现场",
    "process": "派员维修",
    "result": "已恢复",
}


def test_kpis_follow_the_tickets_and_calls(api: TestClient, login, connection: Connection) -> None:
    agent, supervisor, unit, admin = (
        login("agent"),
        login("supervisor"),
        login("department", unit_code="zjj"),
        login("admin"),
    )
    api.put("/api/v1/departments", json=DEPARTMENTS, headers=admin)

    def ticket(kind: str) -> str:
        body = {"request_type": kind, "content": "楼道灯坏了", "district": "鼓楼区", "street": "东街街道"}
        return api.post("/api/v1/tickets", json=body, headers=agent).json()["number"]

    def act(who: dict, number: str, **command) -> None:
        assert api.post(f"/api/v1/tickets/{number}/actions", json=command, headers=who).status_code == 200

    done = ticket("help")
    steps: list[tuple[dict[str, str], dict[str, Any]]] = [
        (agent, {"action": "accept"}),
        (agent, {"action": "dispatch", "unit_code": "zjj"}),
        (unit, {"action": "sign"}),
        (unit, {"action": "reply", "reply": REPLY}),
        (agent, {"action": "visit", "satisfaction": "very_satisfied", "unit_at_fault": False}),
        (agent, {"action": "close"}),
    ]
    for who, command in steps:
        act(who, done, **command)
    spot = ticket("consultation")
    act(agent, spot, action="answer_on_spot", answer="可在小程序办理")
    act(agent, ticket("complaint"), action="accept")

    now = datetime.now(UTC)
    with Session(bind=connection, join_transaction_mode="create_savepoint") as session, session.begin():
        save_call_record(
            session, CallRecord("c1", started_at=now, queue_joined_at=now, answered_at=now, wait_seconds=8)
        )
        save_call_record(
            session, CallRecord("c2", started_at=now, queue_joined_at=now, abandoned=True, wait_seconds=30)
        )

    reply = api.get(
        "/api/v1/reports/kpis", params={"start": TODAY.isoformat(), "end": TODAY.isoformat()}, headers=supervisor
    )
    assert reply.status_code == 200, reply.text
    report = reply.json()
    assert report["tickets"]["received"] == 3
    assert report["tickets"]["completion_rate"] == round(2 / 3, 4)
    assert report["tickets"]["on_the_spot_rate"] == round(1 / 3, 4)
    assert report["tickets"]["satisfaction_rate"] == 1.0
    assert report["calls"]["connection_rate"] == 0.5 and report["calls"]["answered_within_15s_rate"] == 0.5

    by_unit = api.get(
        "/api/v1/reports/kpis",
        headers=supervisor,
        params={"start": TODAY.isoformat(), "end": TODAY.isoformat(), "unit": "zjj"},
    ).json()
    assert by_unit["tickets"]["received"] == 1 and "calls" not in by_unit

    daily = api.get("/api/v1/reports/daily", params={"day": TODAY.isoformat()}, headers=supervisor).json()
    assert daily["received"] == 3 and daily["top_places"] == [["鼓楼区东街街道", 3]]

    assert api.get("/api/v1/reports/daily", params={"day": TODAY.isoformat()}, headers=agent).status_code == 403
    backwards = {"start": TODAY.isoformat(), "end": (TODAY - timedelta(days=1)).isoformat()}
    assert api.get("/api/v1/reports/kpis", params=backwards, headers=supervisor).status_code == 422
