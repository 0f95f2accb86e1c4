from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError
from sqlalchemy.orm import Session

from domain.tickets import Action, Actor, AuditEntry, Channel, Command, RequestType, Role, Ticket, TicketStatus, apply
from storage.tickets import audit_trail, insert_ticket, load_ticket, next_ticket_number, past_dispatches, save_change
from tests.calendars import deadlines_of

AT = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)


def new_ticket(session: Session) -> Ticket:
    number = next_ticket_number(session, date(2026, 11, 2))
    ticket = Ticket(
        number=number, request_type=RequestType.HELP, channel=Channel.PHONE, content="路灯坏了", created_at=AT
    )
    insert_ticket(
        session,
        ticket,
        AuditEntry(number, AT, "agent1", Role.AGENT, "create", None, TicketStatus.DRAFT, ""),
        deadlines_of(ticket),
    )
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


def test_past_dispatches_pair_request_text_with_the_unit(session: Session) -> None:
    ticket = new_ticket(session)
    new_ticket(session)  # never dispatched: not a past dispatch
    agent = Actor("agent1", Role.AGENT)
    for command in (Command(Action.ACCEPT), Command(Action.DISPATCH, unit_code="cgj")):
        ticket, entry = apply(ticket, command, agent, AT)
        save_change(session, ticket, entry, deadlines_of(ticket))
    assert past_dispatches(session) == [("路灯坏了", "cgj")]


@pytest.mark.parametrize("statement", ["UPDATE tickets SET deadline_at = NULL", "UPDATE tickets SET warning_at = NULL"])
def test_a_ticket_cannot_lose_its_deadline_in_the_database(session: Session, statement: str) -> None:
    new_ticket(session)
    with pytest.raises(DatabaseError, match="needs its deadline"), session.begin_nested():
        session.execute(text(statement))
