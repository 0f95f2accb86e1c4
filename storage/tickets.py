"""Tickets as stored: the domain ticket whole (JSON) plus projections for lookups and reports,
the units it went to, and its append-only audit trail — all written in the caller's transaction."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import TypeAdapter
from sqlalchemy import delete, func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from domain.deadline_moves import DEADLINE_MOVED, DeadlineMove
from domain.errors import ChangedMeanwhile, Conflict
from domain.kpis import TicketFacts
from domain.sla import Deadlines
from domain.tickets import SHANGHAI, TERMINAL_STATUSES, AuditEntry, Ticket, TicketStatus, ticket_number
from storage.tables import TicketAuditRow, TicketRow, TicketUnitRow

_codec = TypeAdapter(Ticket)
CLOSING_STATUSES = frozenset({TicketStatus.CLOSED, TicketStatus.ANSWERED_ON_SPOT})


def next_ticket_number(session: Session, day: date) -> str:
    """Date + the day's next sequence; atomic on both backends (INSERT … ON CONFLICT … RETURNING)."""
    sequence = session.execute(
        text(
            "INSERT INTO ticket_sequences (day, last) VALUES (:day, 1) "
            "ON CONFLICT (day) DO UPDATE SET last = ticket_sequences.last + 1 RETURNING last"
        ),
        {"day": day},
    ).scalar_one()
    return ticket_number(day, sequence)


def _set_deadlines(row: TicketRow, deadlines: Deadlines) -> None:
    row.deadline_at, row.warning_at, row.deadline_provisional = (
        deadlines.close_by,
        deadlines.warn_at,
        deadlines.provisional,
    )


def _deadlines(row: TicketRow) -> Deadlines | None:
    if row.deadline_at is None or row.warning_at is None:
        return None
    return Deadlines(row.deadline_at, row.warning_at, row.deadline_provisional)


def _project(row: TicketRow, ticket: Ticket, deadlines: Deadlines) -> None:
    row.number, row.status, row.request_type = ticket.number, str(ticket.status), str(ticket.request_type)
    row.urgent, row.channel, row.caller_number = ticket.urgent, str(ticket.channel), ticket.caller_number
    row.district, row.street, row.created_at = ticket.district, ticket.street, ticket.created_at
    _set_deadlines(row, deadlines)
    row.satisfaction = str(ticket.satisfaction) if ticket.satisfaction else None
    row.state = _codec.dump_python(ticket, mode="json")


def _audit(session: Session, entry: AuditEntry) -> None:
    session.add(
        TicketAuditRow(
            ticket_number=entry.ticket_number,
            at=entry.at,
            actor=entry.actor_id,
            role=str(entry.role),
            action=str(entry.action),
            from_status=str(entry.from_status) if entry.from_status else None,
            to_status=str(entry.to_status),
            note=entry.note or None,
        )
    )


class ReceiptTaken(Conflict):
    """A ticket is stored under this intake receipt already (a retry raced its first request)."""

    code = "receipt_taken"


def _flush(session: Session, number: str) -> None:
    try:
        session.flush()
    except StaleDataError:
        raise ChangedMeanwhile(
            f"ticket {number} changed meanwhile: reload and retry", "ticket_changed_meanwhile"
        ) from None


def insert_ticket(
    session: Session, ticket: Ticket, created: AuditEntry, deadlines: Deadlines, receipt: str | None = None
) -> None:
    """Raises ReceiptTaken when `receipt` is another ticket's (the transaction is then spent)."""
    row = TicketRow(receipt=receipt)
    _project(row, ticket, deadlines)
    session.add(row)
    _audit(session, created)
    try:
        session.flush()
    except IntegrityError:
        if receipt is None:  # numbers come from the day's sequence: the receipt is the only other unique key
            raise
        raise ReceiptTaken(f"receipt {receipt} is taken by a ticket stored meanwhile") from None


def _row(session: Session, number: str) -> TicketRow | None:
    return session.scalar(select(TicketRow).where(TicketRow.number == number))


def number_for_receipt(session: Session, receipt: str) -> str | None:
    return session.scalar(select(TicketRow.number).where(TicketRow.receipt == receipt))


def load_ticket(session: Session, number: str) -> Ticket | None:
    row = _row(session, number)
    return _codec.validate_python(row.state) if row else None


def load_ticket_with_deadlines(session: Session, number: str) -> tuple[Ticket, Deadlines | None] | None:
    row = _row(session, number)
    return (_codec.validate_python(row.state), _deadlines(row)) if row else None


def ticket_units(session: Session, number: str) -> set[str]:
    return set(
        session.scalars(
            select(TicketUnitRow.unit_code)
            .join(TicketRow, TicketRow.id == TicketUnitRow.ticket_id)
            .where(TicketRow.number == number)
        )
    )


def save_change(session: Session, ticket: Ticket, entry: AuditEntry, deadlines: Deadlines) -> None:
    """Stores the ticket after a command, with its audit entry. A concurrent change to the same
    ticket makes the flush fail (optimistic version check) and the whole transaction roll back."""
    row = _row(session, ticket.number)
    if row is None:
        raise LookupError(ticket.number)
    _project(row, ticket, deadlines)
    if ticket.status in CLOSING_STATUSES and row.closed_at is None:
        row.closed_at = entry.at
    units = {leg.unit_code for leg in ticket.legs}
    session.execute(delete(TicketUnitRow).where(TicketUnitRow.ticket_id == row.id))
    session.add_all(TicketUnitRow(ticket_id=row.id, unit_code=unit) for unit in sorted(units))
    _audit(session, entry)
    _flush(session, ticket.number)


def list_tickets(
    session: Session, status: str | None = None, unit_code: str | None = None, limit: int = 50
) -> list[tuple[Ticket, Deadlines | None]]:
    query = select(TicketRow).order_by(TicketRow.created_at.desc(), TicketRow.id.desc()).limit(limit)
    if status:
        query = query.where(TicketRow.status == status)
    if unit_code:
        query = query.join(TicketUnitRow, TicketUnitRow.ticket_id == TicketRow.id).where(
            TicketUnitRow.unit_code == unit_code
        )
    return [(_codec.validate_python(row.state), _deadlines(row)) for row in session.scalars(query)]


def audit_trail(session: Session, number: str) -> list[TicketAuditRow]:
    return list(
        session.scalars(
            select(TicketAuditRow).where(TicketAuditRow.ticket_number == number).order_by(TicketAuditRow.id)
        )
    )


def ticket_facts(
    session: Session, start: datetime, end: datetime, unit_code: str | None = None, request_type: str | None = None
) -> list[TicketFacts]:
    """What reports need of the tickets created in [start, end)."""
    query = select(TicketRow).where(TicketRow.created_at >= start, TicketRow.created_at < end)
    if request_type:
        query = query.where(TicketRow.request_type == request_type)
    if unit_code:
        query = query.join(TicketUnitRow, TicketUnitRow.ticket_id == TicketRow.id).where(
            TicketUnitRow.unit_code == unit_code
        )
    facts = []
    for row in session.scalars(query):
        units = tuple(leg["unit_code"] for leg in row.state.get("legs", ()))
        facts.append(
            TicketFacts(
                row.number,
                row.request_type,
                row.status,
                row.district,
                row.street,
                units,
                row.created_at,
                row.deadline_at,
                row.closed_at,
                row.satisfaction,
            )
        )
    return facts


def tickets_created_between(session: Session, start: datetime, end: datetime) -> list[Ticket]:
    query = select(TicketRow).where(TicketRow.created_at >= start, TicketRow.created_at < end)
    return [_codec.validate_python(row.state) for row in session.scalars(query)]


def past_dispatches(session: Session, limit: int = 5000) -> list[tuple[str, str]]:
    """(request text, unit it was first dispatched to) of the latest dispatched tickets: triage
    learns from where the centre actually sent similar requests."""
    rows = session.scalars(
        select(TicketRow)
        .where(TicketRow.id.in_(select(TicketUnitRow.ticket_id)))
        .order_by(TicketRow.id.desc())
        .limit(limit)
    )
    return [(row.state["content"], row.state["legs"][0]["unit_code"]) for row in rows if row.state.get("legs")]


def tickets_of_caller(session: Session, caller_number: str, limit: int = 10) -> list[Ticket]:
    """The caller's most recent tickets, newest first."""
    query = (
        select(TicketRow)
        .where(TicketRow.caller_number == caller_number)
        .order_by(TicketRow.created_at.desc(), TicketRow.id.desc())
        .limit(limit)
    )
    return [_codec.validate_python(row.state) for row in session.scalars(query)]


def status_for_caller(session: Session, number: str) -> str | None:
    """A ticket's status as told over the phone (in Chinese); None for no such ticket or a draft."""
    ticket = load_ticket(session, number)
    return None if ticket is None or ticket.status is TicketStatus.DRAFT else ticket.status.zh


def open_deadlines(session: Session) -> list[tuple[datetime, datetime, bool]]:
    """(close by, warn at, provisional) of every ticket still being worked on."""
    finished = [str(s) for s in (*TERMINAL_STATUSES, TicketStatus.DRAFT)]
    rows = session.execute(
        select(TicketRow.deadline_at, TicketRow.warning_at, TicketRow.deadline_provisional).where(
            TicketRow.status.not_in(finished)
        )
    )
    return [
        (close_by, warn_at, provisional)
        for close_by, warn_at, provisional in rows
        if close_by is not None and warn_at is not None
    ]


def tickets_to_recheck(session: Session, from_day: date | None = None) -> list[tuple[Ticket, Deadlines | None]]:
    """Tickets whose deadline a calendar change may move: those not finished (drafts included) whose
    deadline is on or after `from_day` or missing; with no day, every ticket without a deadline too."""
    query = select(TicketRow).order_by(TicketRow.id)
    finished = [str(s) for s in TERMINAL_STATUSES]
    not_finished = TicketRow.status.not_in(finished)
    no_deadline = TicketRow.deadline_at.is_(None) | TicketRow.warning_at.is_(None)
    if from_day is None:
        query = query.where(not_finished | no_deadline)
    else:
        since = datetime.combine(from_day, datetime.min.time(), tzinfo=SHANGHAI)
        query = query.where((not_finished & (TicketRow.deadline_at >= since)) | no_deadline)
    return [(_codec.validate_python(row.state), _deadlines(row)) for row in session.scalars(query)]


def provisional_open_count(session: Session) -> int:
    finished = [str(s) for s in TERMINAL_STATUSES]
    return (
        session.scalar(
            select(func.count())
            .select_from(TicketRow)
            .where(TicketRow.deadline_provisional.is_(True), TicketRow.status.not_in(finished))
        )
        or 0
    )


def move_deadline(session: Session, move: DeadlineMove, by: str, role: str, at: datetime, reason: str) -> None:
    """Stores a recomputed deadline; a moved close-by day gets an audit entry saying from what to what and why."""
    row = _row(session, move.number)
    if row is None:
        raise LookupError(move.number)
    _set_deadlines(row, move.after)
    if move.deadline_moved:
        session.add(
            TicketAuditRow(
                ticket_number=move.number,
                at=at,
                actor=by,
                role=role,
                action=DEADLINE_MOVED,
                from_status=row.status,
                to_status=row.status,
                note=move.audit_note(reason),
            )
        )
    _flush(session, move.number)
