"""With the database unreachable (a real PostgreSQL URL where nothing listens), an agent who signed in
before stays signed in and a ticket they record is accepted with a receipt and kept; once the
database is back it is stored exactly once, numbered, with its time limit counted from acceptance.
Handoffs kept meanwhile are written onto their ticket once. On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, func, select
from sqlalchemy.orm import Session

from agent_api.app import create_app
from agent_api.context import ApiContext
from agent_api.passwords import hash_password
from domain.tickets import EmergencyHandoff, Role
from services.calendar import WorkingCalendars
from services.ticket_intake import StoredTicket, TicketBacklog, TicketIn, TicketIntake
from storage.database import make_engine, make_session_factory
from storage.spool import DurableSpool
from storage.tables import TicketRow
from storage.users import create_user

NOWHERE = make_session_factory(make_engine("postgresql+psycopg://postgres@127.0.0.1:1/hotline?connect_timeout=2"))
PASSWORD = "s3cret-enough"
TICKET = {"request_type": "complaint", "content": "小区门口垃圾堆放多日无人清运", "caller_number": "13800138000"}


class Database:
    """The test's transaction while up; a server that is not there while down."""

    def __init__(self, connection: Connection):
        self.connection = connection
        self.up = True

    def __call__(self) -> Session:
        if not self.up:
            return NOWHERE()
        return Session(bind=self.connection, join_transaction_mode="create_savepoint", expire_on_commit=False)

    def tickets(self) -> int:
        with Session(bind=self.connection, join_transaction_mode="create_savepoint") as session:
            return session.execute(select(func.count()).select_from(TicketRow)).scalar_one()


@pytest.fixture
def database(connection: Connection) -> Database:
    return Database(connection)


@pytest.fixture
def backlog(database: Database, tmp_path: Path) -> TicketBacklog:
    return TicketBacklog(DurableSpool(tmp_path / "ticket-work"), database, TicketIntake(WorkingCalendars(database)))


@pytest.fixture
def api(database: Database, backlog: TicketBacklog) -> TestClient:
    return TestClient(create_app(ApiContext(sessions=database, health=lambda: {}, ticket_backlog=backlog)))


def sign_in(api: TestClient, database: Database, username: str, role: str = "agent") -> dict[str, str]:
    with database() as session, session.begin():
        create_user(session, username, hash_password(PASSWORD), role, username)
    token = api.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD}).json()["token"]
    return {"Authorization": f"Bearer {token}"}


def test_a_ticket_recorded_while_the_database_is_down_is_kept_then_stored_once(
    api: TestClient, database: Database, backlog: TicketBacklog
) -> None:
    agent = sign_in(api, database, "agent-wang")  # signed in before the outage

    database.up = False
    before = datetime.now(UTC)
    kept = api.post("/api/v1/tickets", json=TICKET, headers=agent)
    assert kept.status_code == 202, kept.text
    receipt = kept.json()["receipt"]
    assert (
        kept.json()["detail"]
        == "the database is unreachable: the ticket is kept and will be stored and numbered when it is back"
    )
    assert api.get(f"/api/v1/ticket-receipts/{receipt}", headers=agent).json() == {
        "receipt": receipt,
        "state": "kept",
        "number": None,
    }
    assert api.get("/api/v1/tickets", headers=agent).status_code == 503  # reading still needs the database
    assert backlog.store_kept() == []  # still down: it stays kept

    database.up = True
    [stored] = backlog.store_kept()
    assert (stored.receipt, stored.by) == (receipt, "agent-wang")
    assert api.get(f"/api/v1/ticket-receipts/{receipt}", headers=agent).json() == {
        "receipt": receipt,
        "state": "stored",
        "number": stored.number,
    }
    ticket = api.get(f"/api/v1/tickets/{stored.number}", headers=agent).json()
    assert (ticket["content"], ticket["caller_number"], ticket["status"]) == (TICKET["content"], "13800138000", "draft")
    assert before <= datetime.fromisoformat(ticket["created_at"]) <= datetime.fromisoformat(kept.json()["accepted_at"])
    audit = api.get(f"/api/v1/tickets/{stored.number}/audit", headers=agent).json()
    assert [(a["actor"], a["action"]) for a in audit] == [("agent-wang", "create")]
    assert database.tickets() == 1


def test_a_kept_ticket_replayed_after_a_crash_is_not_stored_twice(database: Database, backlog: TicketBacklog) -> None:
    form = TicketIn.model_validate(TICKET)
    accepted = datetime.now(UTC)
    # The same item twice: what a crash between storing it and removing it from the spool leaves.
    backlog.keep_ticket("3b5f0d2e-8c1a-4d6e-9f00-1a2b3c4d5e6f", "agent-li", Role.AGENT, accepted, form)
    backlog.keep_ticket("3b5f0d2e-8c1a-4d6e-9f00-1a2b3c4d5e6f", "agent-li", Role.AGENT, accepted, form)
    first, second = backlog.store_kept()
    assert first == second and isinstance(first, StoredTicket)
    assert database.tickets() == 1
    assert not backlog.holds("3b5f0d2e-8c1a-4d6e-9f00-1a2b3c4d5e6f")


def test_a_handoff_kept_while_the_database_is_down_is_written_once(
    api: TestClient, database: Database, backlog: TicketBacklog
) -> None:
    agent = sign_in(api, database, "agent-zhao")
    number = api.post("/api/v1/tickets", json=TICKET | {"urgent": True}, headers=agent).json()["number"]
    handoff = EmergencyHandoff(
        "110",
        "agent-zhao",
        datetime(2026, 12, 2, 1, 0, tzinfo=UTC),
        direct=False,
        answered_at=datetime(2026, 12, 2, 1, 0, 9, tzinfo=UTC),
    )
    database.up = False
    backlog.keep_handoff(number, handoff)
    backlog.keep_handoff(number, handoff)  # replayed after a crash
    assert backlog.store_kept() == []
    database.up = True
    backlog.store_kept()
    ticket = api.get(f"/api/v1/tickets/{number}", headers=agent).json()
    assert [(h["number"], h["by_user"], h["answered_at"]) for h in ticket["handoffs"]] == [
        ("110", "agent-zhao", "2026-12-02T01:00:09Z")
    ]
    audit = api.get(f"/api/v1/tickets/{number}/audit", headers=agent).json()
    assert [a["action"] for a in audit] == ["create", "record_handoff"]


def test_signed_in_from_memory_only_with_a_token_the_database_confirmed(api: TestClient, database: Database) -> None:
    agent = sign_in(api, database, "agent-sun")
    signed_out = sign_in(api, database, "agent-qian")
    assert api.post("/api/v1/auth/logout", headers=signed_out).status_code == 204
    database.up = False
    assert api.get("/api/v1/auth/me", headers=agent).json()["username"] == "agent-sun"
    for unknown in (signed_out, {"Authorization": "Bearer never-seen"}):
        reply = api.get("/api/v1/auth/me", headers=unknown)
        assert reply.status_code == 503, reply.text  # cannot tell: not let in, and not told it is wrong


def test_a_retried_request_records_its_ticket_once(api: TestClient, database: Database, backlog: TicketBacklog) -> None:
    agent = sign_in(api, database, "agent-zhou")
    retried = agent | {"Idempotency-Key": "0f6e2c1a-5b4d-4e3f-8a29-7c1d0b9e8f76"}
    first = api.post("/api/v1/tickets", json=TICKET, headers=retried)
    again = api.post("/api/v1/tickets", json=TICKET, headers=retried)
    assert (first.status_code, again.status_code) == (201, 201)
    assert first.json()["number"] == again.json()["number"]
    database.up = False
    kept_key = agent | {"Idempotency-Key": "9a8b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d"}
    kept = [api.post("/api/v1/tickets", json=TICKET, headers=kept_key) for _ in range(2)]
    assert [k.status_code for k in kept] == [202, 202]
    assert {k.json()["receipt"] for k in kept} == {"9a8b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d"}
    database.up = True
    [stored] = backlog.store_kept()  # kept once
    after = api.post("/api/v1/tickets", json=TICKET, headers=kept_key)
    assert (after.status_code, after.json()["number"]) == (201, stored.number)
    assert database.tickets() == 2
