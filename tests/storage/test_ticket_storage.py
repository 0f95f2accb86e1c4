from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError
from sqlalchemy.orm import Session

from domain.tickets import AuditEntry, Channel, RequestType, Role, Ticket, TicketStatus
from storage.tickets import audit_trail, insert_ticket, load_ticket, next_ticket_number

AT = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)


def new_ticket(session: Session) -> Ticket:
    number = next_ticket_number(session, date(2026, 11, 2))
    ticket = Ticket(number=number, request_type=RequestType.HELP, channel=Channel.PHONE, content="路灯坏了", created_at=AT)
    insert_ticket(session, ticket, AuditEntry(number, AT, "agent1", Role.AGENT, "create", None, TicketStatus.DRAFT, ""), None)
    return ticket


def test_numbers_are_date_and_sequence_per_day(session: Session) -> None:
    assert next_ticket_number(session, date(2026, 11, 2)) == "2026110200001"
    assert next_ticket_number(session, date(2026, 11, 2)) == "2026110200002"
    assert next_ticket_number(session, date(2026, 11, 3)) == "2026110300001"


def test_ticket_round_trips_whole(session: Session) -> None:
    ticket = new_ticket(session)
    assert load_ticket(session, ticket.number) == ticket


@pytest.mark.parametrize("statement", ["UPDATE ticket_audit SET note = 'rewritten'", "DELETE FROM ticket_audit"])
def test_audit_trail_is_append_only_in_the_database(session: Session, statement: str) -> None:
    ticket = new_ticket(session)
    with pytest.raises(DatabaseError, match="append-only"), session.begin_nested():
        session.execute(text(statement))
    assert [row.action for row in audit_trail(session, ticket.number)] == ["create"]
