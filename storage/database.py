"""Engine and session factory: SQLite by default, PostgreSQL in production."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import InterfaceError, OperationalError, TimeoutError as PoolTimeout
from sqlalchemy.orm import Session, sessionmaker

# What a lost, refused or unobtainable database connection raises (as opposed to a bad statement or
# constraint): worth retrying later.
DATABASE_UNREACHABLE = (OperationalError, InterfaceError, PoolTimeout)
CONNECT_TIMEOUT_SECONDS = 5


def make_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        # A server that does not answer (not one that refuses) would otherwise hold each connecting
        # thread for minutes: health checks, API requests and the spools' retries.
        timeout = {} if "connect_timeout" in parsed.query else {"connect_timeout": CONNECT_TIMEOUT_SECONDS}
        return create_engine(parsed, pool_pre_ping=True, connect_args=timeout)
    if parsed.database and parsed.database != ":memory:" and not parsed.database.startswith("file:"):
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(parsed, connect_args={"check_same_thread": False, "timeout": 30})
    event.listen(engine, "connect", _configure_sqlite)
    event.listen(engine, "begin", _begin_sqlite)
    return engine


def _configure_sqlite(dbapi_connection: Any, _record: Any) -> None:
    # sqlite3's legacy transaction control (Python < 3.12 default) never BEGINs before SELECT or
    # SAVEPOINT, which breaks savepoints; we emit BEGIN ourselves in _begin_sqlite instead.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _begin_sqlite(connection: Connection) -> None:
    # IMMEDIATE: take the write lock up front. A deferred transaction that reads and then writes
    # fails at once with "database is locked" when another thread writes meanwhile (WAL readers
    # are not blocked by it).
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)
