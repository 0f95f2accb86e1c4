"""What the IVR looks up in the database during a call: a ticket's status as told over the phone,
how often the caller called lately, and the callback task of a kept place. Each runs in the
calling FastAGI worker thread."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from domain.callbacks import CallbackReason, new_callback
from storage.call_records import calls_from
from storage.callbacks import create_callback
from storage.tickets import status_for_caller


class IvrLookups:
    def __init__(self, sessions: Callable[[], Session], callback_hold_seconds: int):
        self._sessions = sessions
        self._hold = timedelta(seconds=callback_hold_seconds)

    def ticket_status(self, number: str) -> str | None:
        with self._sessions() as session:
            return status_for_caller(session, number)

    def recent_calls(self, caller: str, days: int) -> int:
        with self._sessions() as session:
            return calls_from(session, caller, datetime.now(UTC) - timedelta(days=days))

    def book_callback(self, uniqueid: str, number: str, queue: str) -> int:
        """The kept place's task: due for agents to call by hand only if it never reached an agent."""
        now = datetime.now(UTC)
        task = new_callback(
            number, CallbackReason.KEPT_PLACE, now, due_at=now + self._hold, call_uniqueid=uniqueid, queue=queue
        )
        with self._sessions() as session, session.begin():
            stored = create_callback(session, task)
        if stored is None or stored.id is None:
            raise RuntimeError(f"call {uniqueid} already has a kept-place callback")
        return stored.id
