"""Fixtures for the security tests (issue 20): the agent API over the rolled-back test transaction
(SQLite and PostgreSQL, from tests/conftest.py), built per test so a test can give the context what it
needs, and with server errors answered as HTTP 500s (not raised into the test), because several of
these tests are about requests that must not end in a 500."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection
from sqlalchemy.orm import Session

from agent_api.app import create_app
from agent_api.context import ApiContext
from agent_api.passwords import hash_password
from storage.users import create_user

PASSWORD = "s3cret-enough"
HEALTHY = {"asterisk": True, "database": True, "agi": True}


@pytest.fixture
def sessions(connection: Connection) -> Callable[[], Session]:
    return lambda: Session(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)


@pytest.fixture
def make_api(sessions: Callable[[], Session]) -> Callable[..., TestClient]:
    """An API client over the test's transaction; keyword arguments go to ApiContext, `client` to TestClient
    (the (host, port) requests come from)."""

    def make(client: tuple[str, int] | None = None, **context: Any) -> TestClient:
        ctx = ApiContext(sessions=sessions, health=lambda: dict(HEALTHY), **context)
        app = create_app(ctx)
        if client is None:
            return TestClient(app, raise_server_exceptions=False)
        return TestClient(app, raise_server_exceptions=False, client=client)

    return make


@pytest.fixture
def api(make_api: Callable[..., TestClient]) -> TestClient:
    return make_api()


@pytest.fixture
def add_user(connection: Connection) -> Callable[..., str]:
    """Creates a user (password PASSWORD) and returns the username."""

    def add(role: str, unit_code: str | None = None, username: str | None = None) -> str:
        username = username or f"{role}-{unit_code or 'centre'}"
        with Session(bind=connection, join_transaction_mode="create_savepoint") as session, session.begin():
            create_user(session, username, hash_password(PASSWORD), role, username, unit_code)
        return username

    return add


@pytest.fixture
def login(api: TestClient, add_user: Callable[..., str]) -> Callable[..., dict[str, str]]:
    """Creates a user with the role (and unit) given, signs in through `api` and returns its Authorization header."""

    def make(
        role: str, unit_code: str | None = None, username: str | None = None, client: TestClient | None = None
    ) -> dict[str, str]:
        username = add_user(role, unit_code, username)
        reply = (client or api).post("/api/v1/auth/login", json={"username": username, "password": PASSWORD})
        assert reply.status_code == 200, reply.text
        return {"Authorization": f"Bearer {reply.json()['token']}"}

    return make
