"""Callers barred from 12345 for a time window."""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import exists, select
from sqlalchemy.orm import Session, sessionmaker

from storage.tables import BarredCallerRow


@dataclass(frozen=True)
class BarredCaller:
    number: str
    reason: str
    barred_from: datetime
    barred_until: datetime
    decided_by: str


def bar_caller(
    session: Session, number: str, reason: str, decided_by: str, barred_from: datetime, barred_until: datetime
) -> BarredCaller:
    session.add(
        BarredCallerRow(
            number=number, reason=reason, decided_by=decided_by, barred_from=barred_from, barred_until=barred_until
        )
    )
    return BarredCaller(number, reason, barred_from, barred_until, decided_by)


def is_barred(session: Session, number: str, at: datetime) -> bool:
    """True when a bar on this number covers `at` (barred_from inclusive, barred_until exclusive)."""
    return bool(
        session.scalar(
            select(
                exists().where(
                    BarredCallerRow.number == number,
                    BarredCallerRow.barred_from <= at,
                    BarredCallerRow.barred_until > at,
                )
            )
        )
    )


def barred_numbers(session: Session, at: datetime) -> frozenset[str]:
    """Every number under a bar at `at`."""
    return frozenset(
        session.scalars(
            select(BarredCallerRow.number).where(BarredCallerRow.barred_from <= at, BarredCallerRow.barred_until > at)
        )
    )


class BarredCallerSnapshot:
    """The numbers barred now, for the IVR's per-call check: read from memory, reloaded from the
    database at most every `max_age` seconds by whichever call finds it stale (others keep using the
    old list meanwhile). If a reload fails, the last list stays in force and the error is raised to
    that one caller's check, which fails open."""

    def __init__(self, sessions: sessionmaker[Session], max_age: float = 5.0):
        self._sessions = sessions
        self._max_age = max_age
        self._numbers: frozenset[str] | None = None
        self._loaded_at = -math.inf
        self._reloading = threading.Lock()

    def _reload(self) -> None:
        self._loaded_at = time.monotonic()  # also after a failure: the next try waits max_age
        with self._sessions() as session:
            self._numbers = barred_numbers(session, datetime.now(UTC))

    def __contains__(self, number: str) -> bool:
        stale = time.monotonic() - self._loaded_at > self._max_age
        if stale and self._reloading.acquire(blocking=self._numbers is None):
            try:
                self._reload()
            finally:
                self._reloading.release()
        return self._numbers is not None and number in self._numbers


def list_barred(session: Session, at: datetime) -> list[BarredCaller]:
    rows = session.scalars(
        select(BarredCallerRow)
        .where(BarredCallerRow.barred_from <= at, BarredCallerRow.barred_until > at)
        .order_by(BarredCallerRow.barred_until.desc())
    )
    return [BarredCaller(r.number, r.reason, r.barred_from, r.barred_until, r.decided_by) for r in rows]
