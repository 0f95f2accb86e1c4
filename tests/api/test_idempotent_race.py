"""A desktop's retry arrives while its first request's ticket is not yet committed, on PostgreSQL in a
database of this test's own (real commits). The retry finds no ticket under its Idempotency-Key,
its insert waits on the unique receipt, then fails — and it answers with the ticket the first
request stored instead of a 500. SQLite takes its write lock before the lookup, so there the retry
simply waits and finds the ticket: the race exists on PostgreSQL only."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from pydantic import TypeAdapter
from sqlalchemy import Engine, insert, text

from agent_api.app import create_app
from agent_api.context import ApiContext
from agent_api.passwords import hash_password
from domain.tickets import Channel, RequestType, Ticket
from storage.database import make_engine, make_session_factory
from storage.migrate import upgrade_database
from storage.tables import TicketRow
from storage.users import create_user
from tests.calendars import deadlines_of
from tests.conftest import _fresh_postgres_database

KEY = "c1d2e3f4-a5b6-4c7d-8e9f-0a1b2c3d4e5f"
TICKET = {"request_type": "complaint", "content": "小区门口垃圾堆放多日无人清运"}


@pytest.fixture(scope="module")
def own_postgres() -> Iterator[Engine]:
    for url in _fresh_postgres_database("race"):
        upgrade_database(url)
        engine = make_engine(url)
        yield engine
        engine.dispose()


def waiting_on_a_lock(engine: Engine) -> int:
    with engine.connect() as connection:
        return connection.execute(
            text(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()"
            )
        ).scalar_one()


def test_a_retry_racing_the_first_request_gets_its_ticket(own_postgres: Engine) -> None:
    sessions = make_session_factory(own_postgres)
    with sessions.begin() as session:
        create_user(session, "agent-wu", hash_password("s3cret-enough"), "agent", "吴")
    api = TestClient(create_app(ApiContext(sessions=sessions, health=lambda: {})))
    token = api.post("/api/v1/auth/login", json={"username": "agent-wu", "password": "s3cret-enough"}).json()["token"]
    first = Ticket("2000010100001", RequestType.COMPLAINT, Channel.PHONE, TICKET["content"], datetime.now(UTC))
    deadlines = deadlines_of(first)
    retried: list = []
    with own_postgres.connect() as first_request:  # its insert made, not yet committed
        first_request.execute(
            insert(TicketRow).values(
                number=first.number,
                status="draft",
                request_type="complaint",
                urgent=False,
                channel="phone",
                created_at=first.created_at,
                deadline_at=deadlines.close_by,
                warning_at=deadlines.warn_at,
                state=TypeAdapter(Ticket).dump_python(first, mode="json"),
                version=1,
                receipt=KEY,
            )
        )
        retry = threading.Thread(
            target=lambda: retried.append(
                api.post(
                    "/api/v1/tickets", json=TICKET, headers={"Authorization": f"Bearer {token}", "Idempotency-Key": KEY}
                )
            )
        )
        retry.start()
        for _ in range(200):
            if waiting := waiting_on_a_lock(own_postgres):
                break
            time.sleep(0.05)
        first_request.commit()
    retry.join(30)

    assert waiting == 1  # the retry's insert waited on the first request's receipt
    assert (retried[0].status_code, retried[0].json()["number"]) == (201, "2000010100001")
    listed = api.get("/api/v1/tickets", headers={"Authorization": f"Bearer {token}"}).json()
    assert [t["number"] for t in listed] == ["2000010100001"]
