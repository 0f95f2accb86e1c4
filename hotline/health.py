"""What GET /api/v1/health reports of the running system: Asterisk (AMI signed in), the database
(it answers a query), FastAGI (its thread is alive) and speech recognition (a worker pool is up);
and warnings that are no failure yet (next year's working calendar not entered)."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from services.calendar import WorkingCalendars


def database_answers(sessions: Callable[[], Session]) -> bool:
    try:
        with sessions() as session:
            session.execute(text("SELECT 1"))
        return True
    except SQLAlchemyError:
        return False


def system_health(
    sessions: Callable[[], Session],
    asterisk_up: Callable[[], bool],
    agi_up: Callable[[], bool],
    asr_up: Callable[[], bool],
) -> Callable[[], dict[str, bool]]:
    def health() -> dict[str, bool]:
        return {"asterisk": asterisk_up(), "database": database_answers(sessions), "agi": agi_up(), "asr": asr_up()}

    return health


def system_warnings(calendars: WorkingCalendars) -> Callable[[], list[str]]:
    def warnings() -> list[str]:
        try:
            return calendars.status().warnings
        except SQLAlchemyError:
            return []  # the database part of the health says so

    return warnings
