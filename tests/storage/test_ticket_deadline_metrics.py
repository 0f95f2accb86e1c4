"""Open tickets by deadline state, as Prometheus scrapes them, from SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from prometheus_client import CollectorRegistry, generate_latest
from sqlalchemy import Connection
from sqlalchemy.orm import Session

from domain.sla import CalendarOutOfRange, is_workday
from domain.tickets import AuditEntry, Channel, RequestType, Role, Ticket, TicketStatus
from hotline.ticket_metrics import TicketDeadlines
from storage.tickets import insert_ticket, next_ticket_number

NOW = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)  # a Tuesday, 10:00 in Shanghai


def add(session: Session, status: TicketStatus, created: datetime, deadline: datetime | None) -> None:
    number = next_ticket_number(session, created.date())
    ticket = Ticket(number=number, request_type=RequestType.COMPLAINT, channel=Channel.PHONE, content="噪音扰民",
                    created_at=created, status=status)
    insert_ticket(session, ticket, AuditEntry(number, created, "agent1", Role.AGENT, "create", None, status, ""),
                  deadline)


def calendar_has(day: date) -> bool:
    try:
        is_workday(day)
    except CalendarOutOfRange:
        return False
    return True


def scrape(connection: Connection) -> str:
    registry = CollectorRegistry()
    registry.register(TicketDeadlines(lambda: Session(bind=connection, join_transaction_mode="create_savepoint"),
                                      clock=lambda: NOW))
    return generate_latest(registry).decode()


def test_open_tickets_are_counted_by_deadline_state(session: Session, connection: Connection) -> None:
    add(session, TicketStatus.DISPATCHED, NOW - timedelta(days=1), NOW + timedelta(days=20))  # ok
    add(session, TicketStatus.DISPATCHED, NOW, NOW + timedelta(days=60))  # in 2027: unknown until the calendar has it
    add(session, TicketStatus.SIGNED, NOW - timedelta(days=60), NOW + timedelta(hours=1))  # warning
    add(session, TicketStatus.ACCEPTED, NOW - timedelta(days=30), NOW - timedelta(hours=1))  # overdue
    add(session, TicketStatus.REHANDLING, NOW - timedelta(days=30), NOW - timedelta(days=1))  # overdue
    add(session, TicketStatus.CLOSED, NOW - timedelta(days=30), NOW - timedelta(days=1))  # finished: not counted
    add(session, TicketStatus.DRAFT, NOW, NOW + timedelta(days=5))  # not yet a ticket
    add(session, TicketStatus.DISPATCHED, NOW, None)  # no time limit
    session.flush()
    text = scrape(connection)
    beyond = 0 if calendar_has(date(2027, 1, 30)) else 1
    assert f'hotline_tickets_open{{deadline="ok"}} {2.0 - beyond}' in text
    assert 'hotline_tickets_open{deadline="warning"} 1.0' in text
    assert 'hotline_tickets_open{deadline="overdue"} 2.0' in text
    assert f'hotline_tickets_open{{deadline="unknown"}} {float(beyond)}' in text


def test_a_database_that_cannot_be_read_gives_no_sample() -> None:
    def broken() -> Session:
        raise ConnectionError("database unreachable")

    registry = CollectorRegistry()
    registry.register(TicketDeadlines(broken))
    assert "hotline_tickets_open" not in generate_latest(registry).decode()
