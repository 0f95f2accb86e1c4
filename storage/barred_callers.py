"""Callers barred from 12345 for a time window."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from storage.tables import BarredCallerRow


def bar_caller(
    session: Session, number: str, reason: str, decided_by: str, barred_from: datetime, barred_until: datetime
) -> None:
    session.add(
        BarredCallerRow(
            number=number, reason=reason, decided_by=decided_by, barred_from=barred_from, barred_until=barred_until
        )
    )


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
