"""On SQLite, a transaction that only reads takes no write lock; every other one takes it up front."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlalchemy import text

from storage.database import make_engine, make_session_factory, reading


def write_lock_free(path: Path) -> bool:
    probe = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        probe.execute("BEGIN IMMEDIATE")
        probe.execute("ROLLBACK")
        return True
    except sqlite3.OperationalError as exc:
        assert "locked" in str(exc), exc
        return False
    finally:
        probe.close()


def test_only_reading_transactions_leave_the_write_lock_free(tmp_path: Path) -> None:
    path = tmp_path / "hotline.db"
    engine = make_engine(f"sqlite:///{path}")
    sessions = make_session_factory(engine)
    with sessions.begin() as session:
        session.execute(text("CREATE TABLE t (n INTEGER)"))
    try:
        with reading(sessions) as session:
            session.execute(text("SELECT count(*) FROM t"))
            assert write_lock_free(path)
        with sessions.begin() as session:  # on the same pooled connection: reading does not stick to it
            session.execute(text("SELECT count(*) FROM t"))
            assert not write_lock_free(path)
        with sessions() as session:  # autobegun: a write may follow, so it takes the lock
            session.execute(text("SELECT count(*) FROM t"))
            assert not write_lock_free(path)
    finally:
        engine.dispose()
