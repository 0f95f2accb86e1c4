"""Engine and session factory: SQLite by default, PostgreSQL in production."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session, sessionmaker

from storage.private_files import PRIVATE_DIR, open_private

# What a lost, refused or unobtainable database connection raises (as opposed to a bad statement or
# constraint): worth retrying later.
DATABASE_UNREACHABLE = (OperationalError, InterfaceError, PoolTimeout)
CONNECT_TIMEOUT_SECONDS = 5
READING = "hotline_reading"  # execution option: the transaction only reads (see `reading`)


def make_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        # A server that does not answer (not one that refuses) would otherwise hold each connecting
        # thread for minutes: health checks, API requests and the spools' retries.
        timeout = {} if "connect_timeout" in parsed.query else {"connect_timeout": CONNECT_TIMEOUT_SECONDS}
        return create_engine(parsed, pool_pre_ping=True, connect_args=timeout)
    if parsed.database and parsed.database != ":memory:" and not parsed.database.startswith("file:"):
        # SQLite gives its -wal and -shm files the database file's mode: a 0600 file keeps all three private.
        path = Path(parsed.database)
        if not path.exists():
            path.parent.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
            os.close(open_private(path, append=True))
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
    # fails at once with "database is locked" when another thread writes meanwhile. A transaction
    # that only reads begins deferred: in WAL mode it neither takes nor waits for the write lock.
    reads_only = connection.get_execution_options().get(READING, False)
    connection.exec_driver_sql("BEGIN" if reads_only else "BEGIN IMMEDIATE")


@contextmanager
def reading(sessions: Callable[[], Session]) -> Iterator[Session]:
    """A transaction that only reads (it must not write): on SQLite it takes no write lock, so reads
    neither queue behind writers nor hold them up."""
    with sessions() as session:
        # Applied to the connection when the transaction procures one: not now, so that an
        # unreachable database is noticed where the first statement runs, as in any transaction.
        session.execution_options = session.execution_options.union({READING: True})
        with session.begin():
            yield session


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)
