"""Issue 20 item 1: an anonymous login flood stalls everything. The Argon2 hash is checked inside the
request's SQLite `BEGIN IMMEDIATE` transaction, so every sign-in holds the database's write lock for a
whole verification; 48 clients posting logins with random usernames made an agent's
`GET /tickets?limit=1` wait 29 s and some logins fail with 503 "database is locked". Nothing limits a
client: only failures per username are counted, which lets anyone lock any user out and never slows a
password sprayed over many usernames.

After the fix: hashes are verified with no transaction open (the write lock is free meanwhile), and
sign-in attempts are limited per client address and overall (429 with Retry-After) — not by username
alone. How long an agent waits during a flood is measured by bench/login_flood.py, not asserted here."""

from __future__ import annotations

import asyncio
import secrets
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from agent_api.app import create_app
from agent_api.context import ApiContext
from agent_api.passwords import hash_password
from storage.database import make_engine, make_session_factory
from storage.migrate import upgrade_database
from storage.users import create_user
from tests.security.conftest import HEALTHY, PASSWORD
from tests.security.live_server import served

LOGIN = "/api/v1/auth/login"
PER_ADDRESS_WITHIN = 50  # failed sign-ins from one address, over different usernames, before a 429
SPRAY_WITHIN = 100  # one password over as many usernames (and addresses)
OVERALL_WITHIN = 200  # attempts from 100 addresses, two each
FLOOD_CLIENTS = 48
FLOOD_SECONDS = 5.0


@dataclass
class FileDatabase:
    """The SQLite file database `hotline up` uses by default, with its engine settings."""

    path: Path
    sessions: sessionmaker[Session]

    def app(self):
        return create_app(ApiContext(sessions=self.sessions, health=lambda: dict(HEALTHY)))

    def client(self, app, address: str = "10.0.0.7") -> TestClient:
        return TestClient(app, raise_server_exceptions=False, client=(address, 40000))


@pytest.fixture
def file_database(tmp_path: Path) -> Iterator[FileDatabase]:
    path = tmp_path / "hotline.db"
    upgrade_database(f"sqlite:///{path}")
    engine = make_engine(f"sqlite:///{path}")
    sessions = make_session_factory(engine)
    with sessions.begin() as session:
        for username, role in (("wang", "agent"), ("li", "agent")):
            create_user(session, username, hash_password(PASSWORD), role, username)
    yield FileDatabase(path, sessions)
    engine.dispose()


def attempt(client: TestClient, username: str | None = None, password: str | None = None) -> httpx.Response:
    return client.post(
        LOGIN,
        json={"username": username or f"u-{secrets.token_hex(6)}", "password": password or secrets.token_urlsafe(12)},
    )


def first_throttled(replies: list[httpx.Response]) -> int | None:
    """1-based position of the first 429, after checking it says when to come back."""
    for position, reply in enumerate(replies, 1):
        if reply.status_code == 429:
            assert int(reply.headers["Retry-After"]) > 0, reply.headers
            return position
        assert reply.status_code == 401, (reply.status_code, reply.text[:200])
    return None


def test_passwords_are_verified_with_the_write_lock_free(
    file_database: FileDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While each Argon2 verification runs, another connection can take the write lock at once."""
    lock_free: list[bool] = []
    verify = PasswordHasher.verify

    def probing_verify(self: PasswordHasher, hash: str | bytes, password: str | bytes) -> bool:
        probe = sqlite3.connect(file_database.path, timeout=0, isolation_level=None)
        try:
            probe.execute("BEGIN IMMEDIATE")
            probe.execute("ROLLBACK")
            lock_free.append(True)
        except sqlite3.OperationalError as exc:
            assert "locked" in str(exc), exc
            lock_free.append(False)
        finally:
            probe.close()
        return verify(self, hash, password)

    monkeypatch.setattr(PasswordHasher, "verify", probing_verify)
    client = file_database.client(file_database.app())
    assert attempt(client, "wang", PASSWORD).status_code == 200
    assert attempt(client, "wang").status_code == 401
    assert attempt(client).status_code == 401  # no such user: verified against the dummy hash

    assert len(lock_free) >= 3 and all(lock_free), lock_free


def test_one_address_trying_many_usernames_is_throttled(make_api: Callable[..., TestClient]) -> None:
    client = make_api(client=("10.0.0.7", 40000))
    replies = []
    for _ in range(PER_ADDRESS_WITHIN):
        replies.append(attempt(client))
        if replies[-1].status_code == 429:
            break

    assert first_throttled(replies) is not None, f"{len(replies)} failed sign-ins from one address, none refused"


def test_an_attacker_cannot_lock_a_user_out(make_api: Callable[..., TestClient], add_user: Callable[..., str]) -> None:
    victim = add_user("agent", username="wang")
    app = make_api().app
    attacker = TestClient(app, raise_server_exceptions=False, client=("10.6.6.6", 40000))
    for _ in range(10):
        attempt(attacker, victim)
    assert attempt(attacker, victim).status_code == 429  # the attacker is refused (today: by username)

    from_her_desk = TestClient(app, raise_server_exceptions=False, client=("10.0.0.8", 40000))
    reply = attempt(from_her_desk, victim, PASSWORD)

    assert reply.status_code == 200, reply.text


def test_a_password_sprayed_over_many_usernames_is_throttled(file_database: FileDatabase) -> None:
    app, password = file_database.app(), "Hotline@2026"
    replies = []
    for n in range(SPRAY_WITHIN):
        replies.append(attempt(file_database.client(app, f"10.2.{n // 250}.{n % 250 + 1}"), password=password))
        if replies[-1].status_code == 429:
            break

    assert first_throttled(replies) is not None, f"one password tried on {len(replies)} usernames, never refused"


def test_sign_in_attempts_are_limited_overall(file_database: FileDatabase) -> None:
    app = file_database.app()
    replies = []
    for n in range(OVERALL_WITHIN):
        replies.append(attempt(file_database.client(app, f"10.3.{n // 500}.{n // 2 % 250 + 1}")))
        if replies[-1].status_code == 429:
            break

    assert first_throttled(replies) is not None, (
        f"{len(replies)} attempts from {len(replies) // 2} addresses, none refused"
    )


async def test_a_login_flood_neither_locks_the_database_nor_fails_an_agent(file_database: FileDatabase) -> None:
    """48 clients post logins with random usernames; meanwhile an agent reads the newest ticket. Before
    the fix some logins got 503 "database is locked" (verifications held the write lock in turn)."""
    async with served(file_database.app()) as port:
        base = f"http://127.0.0.1:{port}"
        async with httpx.AsyncClient(base_url=base, timeout=120) as agent_client:
            signed_in = await agent_client.post(LOGIN, json={"username": "li", "password": PASSWORD})
            assert signed_in.status_code == 200, signed_in.text
            agent = {"Authorization": f"Bearer {signed_in.json()['token']}"}
            statuses: list[tuple[int, str]] = []
            stop = threading.Event()
            flooders = [threading.Thread(target=flood, args=(base, stop, statuses)) for _ in range(FLOOD_CLIENTS)]
            for thread in flooders:
                thread.start()
            reads = 0
            try:
                await asyncio.sleep(1.0)  # the flood is under way
                deadline = time.monotonic() + FLOOD_SECONDS
                while time.monotonic() < deadline:
                    reply = await agent_client.get("/api/v1/tickets?limit=1", headers=agent)
                    assert reply.status_code == 200, reply.text
                    reads += 1
                    await asyncio.sleep(0.2)
            finally:
                stop.set()
                for thread in flooders:
                    await asyncio.to_thread(thread.join)

    locked = [detail for status, detail in statuses if status == 503]
    assert reads > 0 and len(statuses) > FLOOD_CLIENTS
    assert locked == [], f"{len(locked)} of {len(statuses)} logins got 503: {locked[:1]}"


def flood(base: str, stop: threading.Event, statuses: list[tuple[int, str]]) -> None:
    with httpx.Client(base_url=base, timeout=120) as client:
        while not stop.is_set():
            try:
                reply = client.post(LOGIN, json={"username": f"u-{secrets.token_hex(6)}", "password": "guess"})
            except httpx.HTTPError as exc:
                statuses.append((0, repr(exc)))
                continue
            statuses.append((reply.status_code, reply.text[:200]))
