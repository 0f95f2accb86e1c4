"""The API over a real database (SQLite and PostgreSQL), one rolled-back transaction per test."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection
from sqlalchemy.orm import Session

from agent_api.app import create_app
from agent_api.context import ApiContext
from agent_api.passwords import hash_password
from storage.users import create_user

PASSWORD = "s3cret-enough"


@pytest.fixture
def api(connection: Connection) -> TestClient:
    def sessions() -> Session:
        return Session(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)

    ctx = ApiContext(sessions=sessions, health=lambda: {"asterisk": True, "database": True, "agi": True})
    return TestClient(create_app(ctx))


@pytest.fixture
def login(api: TestClient, connection: Connection) -> Callable[..., dict[str, str]]:
    """Creates a user with the role (and unit) given and returns its Authorization header."""

    def make(role: str, unit_code: str | None = None, username: str | None = None) -> dict[str, str]:
        username = username or f"{role}-{unit_code or 'centre'}"
        with Session(bind=connection, join_transaction_mode="create_savepoint") as session, session.begin():
            create_user(session, username, hash_password(PASSWORD), role, username, unit_code)
        reply = api.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD})
        assert reply.status_code == 200, reply.text
        return {"Authorization": f"Bearer {reply.json()['token']}"}

    return make
