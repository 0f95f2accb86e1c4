"""What call control reads from and writes to the database, as plain functions over sessions."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from domain.agents import ANSWERED_WITHIN_SECONDS
from domain.tickets import SHANGHAI, EmergencyHandoff
from domain.transfers import Transfer, TransferKind
from services.ticket_intake import TicketBacklog, TicketIntake
from storage.barred_callers import is_barred
from storage.call_records import answered_counts
from storage.database import DATABASE_UNREACHABLE
from storage.departments import department_phone
from storage.tickets import load_ticket, tickets_of_caller
from telephony.cti_config import CtiHooks

log = logging.getLogger(__name__)
REPEAT_WINDOW = timedelta(days=30)  # a caller with a ticket this recent is a repeat caller


def caller_context(session: Session, caller: str, call_id: str, now: datetime) -> dict[str, Any]:
    """The screen-pop's view of a caller: earlier tickets, repeat and barred flags, and the draft
    ticket being written for this call, if any."""
    tickets = tickets_of_caller(session, caller) if caller else []
    draft = next((t for t in tickets if t.call_uniqueid == call_id), None)
    previous = [t for t in tickets if t is not draft]
    return {
        "previous_tickets": [
            {
                "number": t.number,
                "status": str(t.status),
                "request_type": str(t.request_type),
                "created_at": t.created_at.isoformat(),
                "content": t.content[:200],
            }
            for t in previous
        ],
        "repeat_caller": any(now - t.created_at <= REPEAT_WINDOW for t in previous),
        "barred": bool(caller) and is_barred(session, caller, now),
        "draft_ticket": {"number": draft.number, "content": draft.content} if draft else None,
    }


def handoff_of(transfer: Transfer) -> EmergencyHandoff:
    return EmergencyHandoff(
        number=transfer.target.partition(":")[2],
        by_user=transfer.by_user,
        requested_at=datetime.fromtimestamp(transfer.started_at, UTC),
        direct=transfer.kind is TransferKind.DIRECT_HANDOFF,
        answered_at=datetime.fromtimestamp(transfer.answered_at, UTC) if transfer.answered_at else None,
        failure="" if transfer.answered_at else transfer.reason,
    )


def build_cti_hooks(
    sessions: sessionmaker[Session],
    intake: TicketIntake,
    backlog: TicketBacklog,
    live_draft: Callable[[str], dict[str, Any] | None] = lambda call_id: None,
) -> CtiHooks:
    """Hooks over `sessions`; a handoff finished while the database is unreachable waits in `backlog`.
    `live_draft`: the speech draft of a call so far, for the screen-pop."""

    def read(work):
        with sessions() as session:
            return work(session)

    def write(work):
        with sessions.begin() as session:
            return work(session)

    def today_start() -> datetime:
        local = datetime.now(SHANGHAI)
        return local.replace(hour=0, minute=0, second=0, microsecond=0).astimezone(UTC)

    def record(transfer: Transfer) -> None:
        if transfer.ticket_number is None:
            return
        handoff = handoff_of(transfer)
        try:
            write(lambda s: intake.record_handoff(s, transfer.ticket_number, handoff))
        except DATABASE_UNREACHABLE as exc:
            log.warning(
                "database unreachable (%s): handoff of call %s kept for ticket %s",
                exc,
                transfer.call_id,
                transfer.ticket_number,
            )
            backlog.keep_handoff(transfer.ticket_number, handoff)

    def ticket_exists(number: str) -> bool | None:
        try:
            return read(lambda s: load_ticket(s, number) is not None)
        except DATABASE_UNREACHABLE:
            return None

    return CtiHooks(
        department_phone=lambda code: read(lambda s: department_phone(s, code)),
        caller_context=lambda caller, call_id: read(lambda s: caller_context(s, caller, call_id, datetime.now(UTC))),
        record_handoff=record,
        answered_today=lambda: read(lambda s: answered_counts(s, today_start(), ANSWERED_WITHIN_SECONDS)),
        ticket_exists=ticket_exists,
        live_draft=live_draft,
    )
