"""Opening tickets and recording 110/119/120 handoffs on them — and keeping both while the database
is unreachable. A ticket an agent records then is accepted with a receipt (HTTP 202) and numbered
when the database is back; a finished handoff is written onto its ticket then. Kept work waits in a
durable spool and is stored oldest first, exactly once: a kept ticket is recognised by its receipt,
a handoff by being on the ticket already."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from prometheus_client import Gauge
from pydantic import BaseModel, Field, TypeAdapter
from sqlalchemy.orm import Session

from domain.sla import Deadlines, deadline_for
from domain.tickets import (
    SHANGHAI,
    Action,
    Actor,
    AuditEntry,
    Channel,
    Command,
    EmergencyHandoff,
    RequestType,
    Role,
    Ticket,
    apply,
)
from services.calendar import WorkingCalendars
from services.draft_feedback import note_draft_outcome
from storage.spool import DurableSpool
from storage.tickets import insert_ticket, load_ticket, next_ticket_number, number_for_receipt, save_change

log = logging.getLogger(__name__)
RETRY_SECONDS = 2.0
KEPT = Gauge("hotline_ticket_work_kept", "New tickets and handoffs kept in the spool until the database is back")
_handoff_json = TypeAdapter(EmergencyHandoff)


class TicketIn(BaseModel):
    request_type: RequestType = Field(examples=["complaint"])
    channel: Channel = Channel.PHONE
    content: str = Field(min_length=2, max_length=10000, examples=["小区楼下烧烤店每晚油烟扰民，营业到凌晨两点。"])
    urgent: bool = False
    caller_number: str | None = Field(default=None, pattern=r"^\+?[0-9]{3,20}$", examples=["13800138000"])
    caller_name: str | None = Field(default=None, max_length=64, examples=["王女士"])
    confidential: bool = False
    district: str | None = Field(default=None, max_length=64, examples=["鼓楼区"])
    street: str | None = Field(default=None, max_length=64, examples=["东街街道"])
    address: str | None = Field(default=None, max_length=256, examples=["东街88号"])
    call_uniqueid: str | None = Field(default=None, max_length=64)


def ticket_under(session: Session, receipt: str) -> Ticket | None:
    number = number_for_receipt(session, receipt)
    return load_ticket(session, number) if number else None


class TicketIntake:
    """Opening tickets and changing them, each with its deadline on the working calendar in force."""

    def __init__(self, calendars: WorkingCalendars):
        self.calendars = calendars

    def deadlines(self, session: Session, ticket: Ticket) -> Deadlines:
        calendar = self.calendars.current(session)
        return deadline_for(
            ticket.request_type,
            ticket.urgent,
            ticket.created_at,
            self.calendars.policy,
            calendar,
            ticket.extension_days,
        )

    def open_ticket(
        self, session: Session, by: str, role: Role, now: datetime, receipt: str | None = None, **fields: Any
    ) -> Ticket:
        """Stores a new draft ticket with its number, deadline and first audit entry; `now` is when it
        was accepted, which its time limit counts from."""
        number = next_ticket_number(session, now.astimezone(SHANGHAI).date())
        ticket = Ticket(number=number, created_at=now, **fields)
        created = AuditEntry(number, now, by, role, "create", None, ticket.status, "")
        insert_ticket(session, ticket, created, self.deadlines(session, ticket), receipt)
        return ticket

    def record_ticket(
        self, session: Session, receipt: str, by: str, role: Role, accepted_at: datetime, form: TicketIn
    ) -> Ticket:
        """An agent's new ticket, with what they kept of the call's speech draft; or the ticket already
        recorded under `receipt` (a retried request, a replayed spool item)."""
        recorded = ticket_under(session, receipt)
        if recorded is not None:
            return recorded
        ticket = self.open_ticket(session, by, role, accepted_at, receipt, **form.model_dump())
        note_draft_outcome(session, ticket)
        return ticket

    def save(self, session: Session, changed: Ticket, entry: AuditEntry) -> Deadlines:
        """Stores a ticket after a command, with its (re)computed deadline."""
        deadlines = self.deadlines(session, changed)
        save_change(session, changed, entry, deadlines)
        return deadlines

    def record_handoff(self, session: Session, ticket_number: str, handoff: EmergencyHandoff) -> None:
        """Writes a finished handoff onto its ticket with an audit entry, unless it is there already."""
        ticket = load_ticket(session, ticket_number)
        if ticket is None:
            log.warning("handoff to %s by %s: ticket %s not found", handoff.number, handoff.by_user, ticket_number)
            return
        if handoff in ticket.handoffs:
            return
        changed, entry = apply(
            ticket,
            Command(Action.RECORD_HANDOFF, handoff=handoff),
            Actor(handoff.by_user, Role.AGENT),
            handoff.answered_at or handoff.requested_at,
        )
        self.save(session, changed, entry)


@dataclass(frozen=True)
class StoredTicket:
    receipt: str
    number: str
    by: str


class TicketBacklog:
    """Ticket work accepted while the database was unreachable, until it is stored."""

    def __init__(self, spool: DurableSpool, sessions: Callable[[], Session], intake: TicketIntake):
        self._spool = spool
        self._sessions = sessions
        self._intake = intake
        KEPT.set(len(spool.pending()))

    def keep_ticket(self, receipt: str, by: str, role: Role, accepted_at: datetime, form: TicketIn) -> None:
        self._keep(
            f"ticket-{receipt}",
            {
                "kind": "ticket",
                "receipt": receipt,
                "by": by,
                "role": str(role),
                "accepted_at": accepted_at.isoformat(),
                "form": form.model_dump(mode="json"),
            },
        )

    def keep_handoff(self, ticket_number: str, handoff: EmergencyHandoff) -> None:
        self._keep(
            f"handoff-{ticket_number}",
            {
                "kind": "handoff",
                "ticket_number": ticket_number,
                "handoff": _handoff_json.dump_python(handoff, mode="json"),
            },
        )

    def _keep(self, key: str, item: dict[str, Any]) -> None:
        self._spool.put(key, item)
        KEPT.set(len(self._spool.pending()))

    def holds(self, receipt: str) -> bool:
        return self._spool.holds(f"ticket-{receipt}")

    def store_kept(self) -> list[StoredTicket]:
        """Stores kept work oldest first, stopping at the first item the database refuses (it stays
        kept). Returns the tickets stored, for telling the agents who recorded them."""
        stored: list[StoredTicket] = []

        def store(item: dict[str, Any]) -> None:
            with self._sessions() as session, session.begin():
                if item["kind"] == "handoff":
                    self._intake.record_handoff(
                        session, item["ticket_number"], _handoff_json.validate_python(item["handoff"])
                    )
                    return
                ticket = self._intake.record_ticket(
                    session,
                    item["receipt"],
                    item["by"],
                    Role(item["role"]),
                    datetime.fromisoformat(item["accepted_at"]),
                    TicketIn.model_validate(item["form"]),
                )
            stored.append(StoredTicket(item["receipt"], ticket.number, item["by"]))

        left, error = self._spool.drain(store)
        if error is not None:
            log.warning("kept ticket work not stored yet (%s); %d waiting", error, left)
        KEPT.set(left)
        return stored

    async def run(self, publish: Callable[[str, dict], None]) -> None:
        """Forever: store what is kept, and tell each agent the number their kept ticket got."""
        while True:
            try:
                if self._spool.pending():
                    for ticket in await asyncio.to_thread(self.store_kept):
                        log.info("kept ticket %s stored as %s", ticket.receipt, ticket.number)
                        publish(
                            f"user:{ticket.by}",
                            {"type": "ticket_stored", "receipt": ticket.receipt, "number": ticket.number},
                        )
            except Exception:
                log.exception("kept ticket work: storing failed; retrying")
            await asyncio.sleep(RETRY_SECONDS)
