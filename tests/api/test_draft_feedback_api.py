"""What agents keep and change of a call's speech draft, recorded as they make and dispatch the ticket."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from datetime import UTC, datetime

from fastapi.testclient import TestClient
from sqlalchemy import Connection
from sqlalchemy.orm import Session

from domain.drafts import DraftTicket, SuggestedDepartment, draft_from_dict
from domain.tickets import SHANGHAI
from storage.speech import load_call_draft, save_call_draft

DEPARTMENTS = [
    {"code": "zjj", "name": "市住建局", "duties": "物业管理、房屋安全", "keywords": ["物业", "电梯"]},
    {"code": "cgj", "name": "城管执法局", "duties": "占道经营、油烟、噪音执法", "keywords": ["占道经营", "油烟"]},
]
DRAFT = DraftTicket(
    call_id="hotline-1.42",
    caller="13800138000",
    transcript="小区电梯坏了一个星期物业不修",
    request_type="complaint",
    urgent=False,
    emergency_phrases=(),
    district="鼓楼区",
    street="东街街道",
    departments=(SuggestedDepartment("zjj", "市住建局", 81.0), SuggestedDepartment("cgj", "城管执法局", 12.0)),
    similar=(),
    knowledge=(),
)


def test_a_stored_draft_reads_back_as_it_was() -> None:
    assert draft_from_dict(asdict(DRAFT)) == DRAFT


def test_changes_are_kept_at_creation_and_dispatch(
    api: TestClient, login: Callable[..., dict[str, str]], connection: Connection
) -> None:
    admin, agent = login("admin"), login("agent")
    assert api.put("/api/v1/departments", json=DEPARTMENTS, headers=admin).status_code == 200
    with Session(bind=connection, join_transaction_mode="create_savepoint") as session, session.begin():
        save_call_draft(session, DRAFT.call_id, DRAFT.caller, asdict(DRAFT), datetime.now(UTC))

    created = api.post(
        "/api/v1/tickets",
        headers=agent,
        json={
            "request_type": "help",
            "content": DRAFT.transcript,
            "caller_number": DRAFT.caller,
            "district": "鼓楼区",
            "street": "东街街道",
            "call_uniqueid": DRAFT.call_id,
        },
    )
    assert created.status_code == 201, created.text
    number = created.json()["number"]
    with Session(bind=connection, join_transaction_mode="create_savepoint") as session:
        row = load_call_draft(session, DRAFT.call_id)
        assert row is not None
        assert (row.ticket_number, row.changes) == (
            number,
            {"request_type": {"suggested": "complaint", "accepted": "help"}},
        )

    for command in ({"action": "accept"}, {"action": "dispatch", "unit_code": "cgj"}):
        reply = api.post(f"/api/v1/tickets/{number}/actions", json=command, headers=agent)
        assert reply.status_code == 200, reply.text
    with Session(bind=connection, join_transaction_mode="create_savepoint") as session:
        assert (row := load_call_draft(session, DRAFT.call_id)) is not None and row.changes == {
            "request_type": {"suggested": "complaint", "accepted": "help"},
            "department": {"suggested": "zjj", "accepted": "cgj"},
        }


def test_the_drafts_report_gives_the_share_kept_per_field(
    api: TestClient, login: Callable[..., dict[str, str]], connection: Connection
) -> None:
    test_changes_are_kept_at_creation_and_dispatch(api, login, connection)
    today = datetime.now(SHANGHAI).date().isoformat()
    reply = api.get("/api/v1/reports/drafts", params={"start": today, "end": today}, headers=login("supervisor"))
    assert reply.status_code == 200, reply.text
    assert reply.json()["drafts"] == 1
    assert reply.json()["kept"] == {
        "request_type": 0.0,
        "urgent": 1.0,
        "district": 1.0,
        "street": 1.0,
        "department": 0.0,
    }


def test_a_ticket_without_a_draft_records_nothing(
    api: TestClient, login: Callable[..., dict[str, str]], connection: Connection
) -> None:
    created = api.post(
        "/api/v1/tickets",
        headers=login("agent"),
        json={"request_type": "help", "content": "路灯不亮了", "call_uniqueid": "hotline-1.99"},
    )
    assert created.status_code == 201
    with Session(bind=connection, join_transaction_mode="create_savepoint") as session:
        assert load_call_draft(session, "hotline-1.99") is None
