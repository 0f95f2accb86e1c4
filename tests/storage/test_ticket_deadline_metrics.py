"""Open tickets by deadline state, as Prometheus scrapes them, from SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from prometheus_client import CollectorRegistry, generate_latest
from sqlalchemy import Connection
from sqlalchemy.orm import Session

from domain.sla import Deadlines
from domain.tickets import AuditEntry, Channel, RequestType, Role, Ticket, TicketStatus
from hotline.ticket_metrics import CalendarCoverage, TicketDeadlines
from services.calendar import WorkingCalendars
from storage.tickets import insert_ticket, next_ticket_number

NOW = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)  # a Tuesday, 10:00 in Shanghai


def add(
    session: Session, status: TicketStatus, created: datetime, deadline: datetime, provisional: bool = False
) -> None:
    number = next_ticket_number(session, created.date())
    ticket = Ticket(
        number=number,
        request_type=RequestType.COMPLAINT,
        channel=Channel.PHONE,
        content="噪音扰民",
        created_at=created,
        status=status,
    )
    warn_at = created + (deadline - created) * 0.8
    insert_ticket(
        session,
        ticket,
        AuditEntry(number, created, "agent1", Role.AGENT, "create", None, status, ""),
        Deadlines(deadline, warn_at, provisional),
    )


def scrape(connection: Connection) -> str:
    registry = CollectorRegistry()
    registry.register(
        TicketDeadlines(lambda: Session(bind=connection, join_transaction_mode="create_savepoint"), clock=lambda: NOW)
    )
    return generate_latest(registry).decode()


def test_open_tickets_are_counted_by_deadline_state(session: Session, connection: Connection) -> None:
    add(session, TicketStatus.DISPATCHED, NOW - timedelta(days=1), NOW + timedelta(days=20))  # ok
    add(session, TicketStatus.DISPATCHED, NOW, NOW + timedelta(days=60), provisional=True)  # in 2027: provisional
    add(session, TicketStatus.SIGNED, NOW - timedelta(days=60), NOW + timedelta(hours=1))  # warning
    add(session, TicketStatus.ACCEPTED, NOW - timedelta(days=30), NOW - timedelta(hours=1))  # overdue
    add(session, TicketStatus.REHANDLING, NOW - timedelta(days=30), NOW - timedelta(days=1))  # overdue
    add(session, TicketStatus.CLOSED, NOW - timedelta(days=30), NOW - timedelta(days=1))  # finished: not counted
    add(session, TicketStatus.DRAFT, NOW, NOW + timedelta(days=5))  # not yet a ticket
    session.flush()
    text = scrape(connection)
    assert 'hotline_tickets_open{deadline="ok",provisional="false"} 1.0' in text
    assert 'hotline_tickets_open{deadline="ok",provisional="true"} 1.0' in text
    assert 'hotline_tickets_open{deadline="warning",provisional="false"} 1.0' in text
    assert 'hotline_tickets_open{deadline="overdue",provisional="false"} 2.0' in text
    assert 'hotline_tickets_open{deadline="overdue",provisional="true"} 0.0' in text


def test_the_calendar_says_how_far_it_is_confirmed(connection: Connection) -> None:
    registry = CollectorRegistry()
    registry.register(
        CalendarCoverage(WorkingCalendars(lambda: Session(bind=connection, join_transaction_mode="create_savepoint")))
    )
    text = generate_latest(registry).decode()
    today = datetime.now(UTC).date()
    # The migrated database knows the years chinesecalendar knows (to 2026).
    expected = 2026.0 if today.year == 2026 else 0.0
    assert f"hotline_calendar_confirmed_until {expected}" in text
    assert "hotline_calendar_missing_years" in text


def test_a_database_that_cannot_be_read_gives_no_sample() -> None:
    def broken() -> Session:
        raise ConnectionError("database unreachable")

    registry = CollectorRegistry()
    registry.register(TicketDeadlines(broken))
    assert "hotline_tickets_open" not in generate_latest(registry).decode()
