"""Database fixtures for storage and API tests: SQLite and PostgreSQL, each migrated once per session; every test runs
in a transaction that is rolled back at the end."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from sqlalchemy import Connection, Engine, create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from storage.database import make_engine
from storage.migrate import upgrade_database

POSTGRES_URL = os.environ.get("HOTLINE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'hotline.db'}"
    else:
        yield from _fresh_postgres_database()


def _fresh_postgres_database(purpose: str = "") -> Iterator[str]:
    """A database of our own, per test run (and `purpose`), so concurrent runs cannot clobber each other."""
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    name = f"hotline_test_{os.getpid()}{purpose and '_' + purpose}"
    try:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    except OperationalError as exc:
        admin.dispose()
        reason = f"PostgreSQL not reachable at {make_url(POSTGRES_URL).render_as_string()}: {exc.orig}"
        if os.environ.get("CI") == "true":
            raise RuntimeError(f"{reason} (CI=true: PostgreSQL tests must run)") from exc
        pytest.skip(reason)
    try:
        yield make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    upgrade_database(database_url)
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def connection(engine: Engine) -> Iterator[Connection]:
    """A connection in a transaction that is rolled back after the test."""
    with engine.connect() as connection:
        transaction = connection.begin()
        yield connection
        transaction.rollback()


@pytest.fixture
def session(connection: Connection) -> Iterator[Session]:
    """SQLAlchemy's "join a session into an external transaction" recipe."""
    with Session(bind=connection, join_transaction_mode="create_savepoint") as session:
        yield session


class Installer:
    """An IVR version's prompt installer that records the sources installed, and fails with
    `failure` while it is set (for the versions service and its API)."""

    def __init__(self) -> None:
        self.installed: list[str] = []
        self.failure: Exception | None = None

    def __call__(self, source: str) -> None:
        if self.failure is not None:
            raise self.failure
        self.installed.append(source)


@pytest.fixture
def installer() -> Installer:
    return Installer()
