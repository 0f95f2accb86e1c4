"""Callbacks (回拨) through the API, on SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection
from sqlalchemy.orm import Session

from domain.calls import CallRecord
from storage.callbacks import create_callback_for_call, load_callback, save_callback

CALLER = "13912345678"


@pytest.fixture
def staff(login: Callable[..., dict[str, str]]) -> dict[str, dict[str, str]]:
    return {
        "agent": login("agent", username="agent-a"),
        "other": login("agent", username="agent-b"),
        "supervisor": login("supervisor"),
        "department": login("department", unit_code="zjj"),
    }


@pytest.fixture
def in_db(connection: Connection) -> Callable[[Callable[[Session], object]], object]:
    """Runs `work` in a transaction of its own, as the call recorder would."""

    def run(work: Callable[[Session], object]) -> object:
        with Session(bind=connection, join_transaction_mode="create_savepoint") as session, session.begin():
            return work(session)

    return run


@pytest.fixture
def abandoned_id(in_db) -> int:
    now = datetime.now(UTC)
    record = CallRecord(
        "1700000000.11",
        caller=CALLER,
        started_at=now - timedelta(minutes=1),
        route_action="queue",
        queue="hotline-general",
        queue_joined_at=now - timedelta(seconds=50),
        ended_at=now,
        abandoned=True,
    )
    task = in_db(lambda session: create_callback_for_call(session, record, now))
    return task.id


def post(api: TestClient, who: dict[str, str], path: str, body: dict | None = None, expect: int = 200) -> dict:
    reply = api.post(f"/api/v1/callbacks{path}", json=body, headers=who)
    assert reply.status_code == expect, reply.text
    return reply.json()


def test_the_list_shows_due_callbacks_first_with_the_number_to_call(api: TestClient, staff, abandoned_id: int) -> None:
    later = (datetime.now(UTC) + timedelta(hours=2)).isoformat()
    requested = post(api, staff["agent"], "", {"caller_number": "13800138000", "due_at": later}, expect=201)
    assert requested["reason"] == "requested" and requested["status"] == "open"

    listed = api.get("/api/v1/callbacks", headers=staff["agent"]).json()
    assert [(t["id"], t["reason"], t["caller_number"]) for t in listed] == [
        (abandoned_id, "abandoned", CALLER),
        (requested["id"], "requested", "13800138000"),
    ]
    assert listed[0]["queue"] == "hotline-general" and listed[0]["allowed_actions"] == ["claim"]
    assert [t["id"] for t in api.get("/api/v1/callbacks?due=true", headers=staff["agent"]).json()] == [abandoned_id]
    assert api.get("/api/v1/callbacks?status=claimed", headers=staff["supervisor"]).json() == []
    assert api.get("/api/v1/callbacks", headers=staff["department"]).status_code == 403
    assert api.get(f"/api/v1/callbacks/{abandoned_id}", headers=staff["supervisor"]).json()["allowed_actions"] == [
        "claim",
        "cancel",
    ]


def test_one_agent_at_a_time_and_only_the_claimer_records(api: TestClient, staff, abandoned_id: int) -> None:
    claimed = post(api, staff["agent"], f"/{abandoned_id}/claim")
    assert (claimed["status"], claimed["claimed_by"]) == ("claimed", "agent-a")
    assert claimed["allowed_actions"] == ["claim", "call", "attempt"]

    taken = api.post(f"/api/v1/callbacks/{abandoned_id}/claim", headers=staff["other"])
    assert taken.status_code == 409 and taken.json()["allowed_actions"] == []
    assert "claimed by agent-a" in taken.json()["detail"]
    recorded = api.post(
        f"/api/v1/callbacks/{abandoned_id}/attempts", json={"outcome": "answered"}, headers=staff["other"]
    )
    assert recorded.status_code == 409
    assert api.get(f"/api/v1/callbacks/{abandoned_id}", headers=staff["other"]).json()["attempts"] == []


def test_a_stale_claim_is_taken_over(api: TestClient, staff, abandoned_id: int, in_db) -> None:
    post(api, staff["agent"], f"/{abandoned_id}/claim")

    def age_the_claim(session: Session) -> None:
        task = load_callback(session, abandoned_id)
        assert task is not None and task.claimed_at is not None
        save_callback(session, dataclasses.replace(task, claimed_at=task.claimed_at - timedelta(minutes=20)))

    in_db(age_the_claim)
    assert post(api, staff["other"], f"/{abandoned_id}/claim")["claimed_by"] == "agent-b"
    assert (
        api.post(
            f"/api/v1/callbacks/{abandoned_id}/attempts", json={"outcome": "busy"}, headers=staff["agent"]
        ).status_code
        == 409
    )


def test_answered_closes_the_callback(api: TestClient, staff, abandoned_id: int) -> None:
    post(api, staff["agent"], f"/{abandoned_id}/claim")
    done = post(api, staff["agent"], f"/{abandoned_id}/attempts", {"outcome": "answered", "note": "已解答"})
    assert done["status"] == "done" and done["finished_at"] is not None and done["allowed_actions"] == []
    assert [(a["by_user"], a["outcome"], a["note"]) for a in done["attempts"]] == [("agent-a", "answered", "已解答")]


def test_unanswered_attempts_retry_later_and_fail_after_the_third(api: TestClient, staff, abandoned_id: int) -> None:
    post(api, staff["agent"], f"/{abandoned_id}/claim")
    before = datetime.now(UTC)
    retry = post(api, staff["agent"], f"/{abandoned_id}/attempts", {"outcome": "no_answer"})
    assert (retry["status"], retry["claimed_by"]) == ("open", None)
    due = datetime.fromisoformat(retry["due_at"])
    assert before + timedelta(minutes=30) <= due <= datetime.now(UTC) + timedelta(minutes=30)
    assert api.get("/api/v1/callbacks?due=true", headers=staff["agent"]).json() == []

    post(api, staff["other"], f"/{abandoned_id}/claim")
    assert post(api, staff["other"], f"/{abandoned_id}/attempts", {"outcome": "busy"})["status"] == "open"
    post(api, staff["agent"], f"/{abandoned_id}/claim")
    failed = post(api, staff["agent"], f"/{abandoned_id}/attempts", {"outcome": "failed"})
    assert failed["status"] == "failed"
    assert [a["outcome"] for a in failed["attempts"]] == ["no_answer", "busy", "failed"]
    again = api.post(f"/api/v1/callbacks/{abandoned_id}/claim", headers=staff["agent"])
    assert again.status_code == 409 and again.json()["allowed_actions"] == []


def test_only_a_supervisor_cancels_and_only_with_a_reason(api: TestClient, staff, abandoned_id: int) -> None:
    path = f"/api/v1/callbacks/{abandoned_id}/cancel"
    assert api.post(path, json={"reason": "不需要"}, headers=staff["agent"]).status_code == 403
    assert api.post(path, json={"reason": ""}, headers=staff["supervisor"]).status_code == 422
    assert api.post(path, json={"reason": "   "}, headers=staff["supervisor"]).status_code == 422
    cancelled = post(api, staff["supervisor"], f"/{abandoned_id}/cancel", {"reason": "来电人已再次来电"})
    assert (cancelled["status"], cancelled["cancelled_by"], cancelled["cancel_reason"]) == (
        "cancelled",
        "supervisor-centre",
        "来电人已再次来电",
    )
    again = api.post(path, json={"reason": "again"}, headers=staff["supervisor"])
    assert again.status_code == 409 and again.json()["allowed_actions"] == []


def test_placing_the_call_needs_the_claim_and_call_control(api: TestClient, staff, abandoned_id: int) -> None:
    path = f"/api/v1/callbacks/{abandoned_id}/call"
    unclaimed = api.post(path, headers=staff["agent"])
    assert unclaimed.status_code == 409 and unclaimed.json()["allowed_actions"] == ["claim"]
    assert unclaimed.json()["error"] == "illegal_callback_step"
    post(api, staff["agent"], f"/{abandoned_id}/claim")
    assert api.post(path, headers=staff["other"]).status_code == 409
    no_cti = api.post(path, headers=staff["agent"])
    assert no_cti.status_code == 503 and no_cti.json()["error"] == "call_control_unavailable"
    assert api.post("/api/v1/callbacks/999999/call", headers=staff["agent"]).status_code == 404


def test_bad_input_is_a_clear_4xx(api: TestClient, staff, abandoned_id: int) -> None:
    agent = staff["agent"]
    assert api.get("/api/v1/callbacks/999999", headers=agent).status_code == 404
    assert api.post("/api/v1/callbacks/999999/claim", headers=agent).status_code == 404
    for body in ({"caller_number": "anonymous"}, {"caller_number": CALLER, "due_at": "2026-11-23T09:00:00"}):
        assert api.post("/api/v1/callbacks", json=body, headers=agent).status_code == 422, body
    unknown_ticket = api.post(
        "/api/v1/callbacks", json={"caller_number": CALLER, "ticket_number": "2026010100001"}, headers=agent
    )
    assert unknown_ticket.status_code == 404 and "2026010100001" in unknown_ticket.json()["detail"]
    with_call = {"caller_number": CALLER, "call_uniqueid": "1700000000.12"}
    post(api, agent, "", with_call, expect=201)
    assert api.post("/api/v1/callbacks", json=with_call, headers=agent).status_code == 409
    post(api, agent, f"/{abandoned_id}/claim")
    bad_outcome = api.post(f"/api/v1/callbacks/{abandoned_id}/attempts", json={"outcome": "maybe"}, headers=agent)
    assert bad_outcome.status_code == 422
