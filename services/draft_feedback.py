"""What the agent kept and changed of a call's speech draft, recorded when they make the ticket
(and again when they dispatch it, which is when the responsible unit is known)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from domain.drafts import draft_changes, draft_from_dict
from domain.tickets import Ticket
from storage.speech import load_call_draft, record_draft_outcome


def note_draft_outcome(session: Session, ticket: Ticket, unit_code: str | None = None) -> None:
    """`unit_code`: the unit the ticket was dispatched to; before dispatch the suggestion stands."""
    row = load_call_draft(session, ticket.call_uniqueid) if ticket.call_uniqueid else None
    if row is None:
        return
    draft = draft_from_dict(row.draft)
    suggested_unit = draft.departments[0].code if draft.departments else None
    accepted = {
        "request_type": str(ticket.request_type),
        "urgent": ticket.urgent,
        "district": ticket.district,
        "street": ticket.street,
        "department": unit_code or suggested_unit,
    }
    record_draft_outcome(session, row.call_uniqueid, ticket.number, draft_changes(draft, accepted))
