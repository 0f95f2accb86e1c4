"""the working calendar in the database; every ticket with a deadline and a warning time

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07

Creates the calendar's notice versions (append-only), seeds them with the years the
chinesecalendar package knows, and gives every ticket its deadline, warning time and provisional
mark on that calendar: tickets stored without a deadline (their limit ran past the package's last
year) get one, audited, and from now on a ticket cannot be stored without one.
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op
from pydantic import TypeAdapter

from domain.calendar import WorkingCalendar
from domain.calendar_notice import notice_document
from domain.deadline_moves import DEADLINE_MOVED, DeadlineMove, deadline_moves
from domain.sla import Deadlines, SlaPolicy
from domain.tickets import Ticket
from storage.calendar_seed import SEED_SOURCE, chinese_calendar_notices
from storage.tables import UtcDateTime

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MIGRATION_ACTOR = "migration-0009"


def _schema() -> None:
    op.create_table(
        "calendar_notices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("scope", sa.String(length=16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("source_file", sa.String(length=255), nullable=False),
        sa.Column("source_sha256", sa.String(length=64), nullable=False),
        sa.Column("imported_by", sa.String(length=64), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.CheckConstraint("scope IN ('national', 'local')", name=op.f("ck_calendar_notices_scope")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calendar_notices")),
        sa.UniqueConstraint("year", "scope", "version", name=op.f("uq_calendar_notices_year")),
    )
    with op.batch_alter_table("calendar_notices", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_calendar_notices_year"), ["year"], unique=False)
    # Added in place (no table rebuild on SQLite, which would empty ticket_units through its cascade).
    op.add_column("tickets", sa.Column("warning_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("tickets", sa.Column("deadline_provisional", sa.Boolean(), server_default=sa.false(), nullable=False))


def _append_only() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION calendar_append_only() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'calendar_notices is append-only'; END $$"
        )
        op.execute(
            "CREATE TRIGGER calendar_notices_append_only BEFORE UPDATE OR DELETE ON calendar_notices "
            "FOR EACH ROW EXECUTE FUNCTION calendar_append_only()"
        )
    else:
        for event in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER calendar_notices_no_{event.lower()} BEFORE {event} ON calendar_notices "
                "BEGIN SELECT RAISE(ABORT, 'calendar_notices is append-only'); END"
            )


def _deadlines_required() -> None:
    """A ticket always has a deadline and a warning time: enforced by the database itself."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION tickets_need_deadline() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN IF NEW.deadline_at IS NULL OR NEW.warning_at IS NULL THEN "
            "RAISE EXCEPTION 'a ticket needs its deadline and warning time'; END IF; RETURN NEW; END $$"
        )
        op.execute(
            "CREATE TRIGGER tickets_need_deadline BEFORE INSERT OR UPDATE ON tickets "
            "FOR EACH ROW EXECUTE FUNCTION tickets_need_deadline()"
        )
    else:
        for event in ("INSERT", "UPDATE"):
            op.execute(
                f"CREATE TRIGGER tickets_need_deadline_{event.lower()} BEFORE {event} ON tickets "
                "WHEN NEW.deadline_at IS NULL OR NEW.warning_at IS NULL "
                "BEGIN SELECT RAISE(ABORT, 'a ticket needs its deadline and warning time'); END"
            )


# The tables as they are at this revision (not the ORM models, which move on with later revisions).
_notices = sa.table(
    "calendar_notices",
    sa.column("year", sa.Integer),
    sa.column("scope", sa.String),
    sa.column("version", sa.Integer),
    sa.column("document", sa.JSON),
    sa.column("source_file", sa.String),
    sa.column("source_sha256", sa.String),
    sa.column("imported_by", sa.String),
    sa.column("imported_at", UtcDateTime),
    sa.column("note", sa.Text),
)
_tickets = sa.table(
    "tickets",
    sa.column("id", sa.Integer),
    sa.column("number", sa.String),
    sa.column("status", sa.String),
    sa.column("state", sa.JSON),
    sa.column("deadline_at", UtcDateTime),
    sa.column("warning_at", UtcDateTime),
    sa.column("deadline_provisional", sa.Boolean),
)
_audit = sa.table(
    "ticket_audit",
    sa.column("ticket_number", sa.String),
    sa.column("at", UtcDateTime),
    sa.column("actor", sa.String),
    sa.column("role", sa.String),
    sa.column("action", sa.String),
    sa.column("from_status", sa.String),
    sa.column("to_status", sa.String),
    sa.column("note", sa.Text),
)


def _seed(now: datetime) -> WorkingCalendar:
    notices = chinese_calendar_notices()
    op.bulk_insert(
        _notices,
        [
            {
                "year": n.year,
                "scope": str(n.scope),
                "version": 1,
                "document": notice_document(n),
                "source_file": SEED_SOURCE,
                "source_sha256": "",
                "imported_by": MIGRATION_ACTOR,
                "imported_at": now,
                "note": f"seeded from {SEED_SOURCE}",
            }
            for n in notices
        ],
    )
    return WorkingCalendar.of(notices)


def _give_deadlines(calendar: WorkingCalendar, now: datetime) -> None:
    """Every ticket gets its deadline, warning time and provisional mark; a missing deadline set is audited."""
    connection = op.get_bind()
    codec = TypeAdapter(Ticket)
    rows = connection.execute(sa.select(_tickets.c.number, _tickets.c.status, _tickets.c.state, _tickets.c.deadline_at))
    tickets = {number: (codec.validate_python(state), status, deadline) for number, status, state, deadline in rows}
    stored = ((ticket, None) for ticket, _, _ in tickets.values())  # no warning times yet: all are recomputed
    for move in deadline_moves(stored, calendar, SlaPolicy()):
        _, status, deadline_at = tickets[move.number]
        after: Deadlines = move.after
        connection.execute(
            _tickets.update()
            .where(_tickets.c.number == move.number)
            .values(deadline_at=after.close_by, warning_at=after.warn_at, deadline_provisional=after.provisional)
        )
        # Only the close-by time was stored before: that is what the audit compares.
        shown = DeadlineMove(move.number, Deadlines(deadline_at, deadline_at, False) if deadline_at else None, after)
        if shown.deadline_moved:
            connection.execute(
                _audit.insert().values(
                    ticket_number=move.number,
                    at=now,
                    actor=MIGRATION_ACTOR,
                    role="admin",
                    action=DEADLINE_MOVED,
                    from_status=status,
                    to_status=status,
                    note=shown.audit_note(f"工作日历（{SEED_SOURCE}）"),
                )
            )


def upgrade() -> None:
    _schema()
    _append_only()
    now = datetime.now(UTC)
    _give_deadlines(_seed(now), now)
    _deadlines_required()


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER tickets_need_deadline ON tickets")
        op.execute("DROP FUNCTION tickets_need_deadline()")
        op.execute("DROP TRIGGER calendar_notices_append_only ON calendar_notices")
        op.execute("DROP FUNCTION calendar_append_only()")
    else:
        for event in ("insert", "update"):
            op.execute(f"DROP TRIGGER tickets_need_deadline_{event}")
    op.drop_column("tickets", "deadline_provisional")
    op.drop_column("tickets", "warning_at")
    with op.batch_alter_table("calendar_notices", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_calendar_notices_year"))
    op.drop_table("calendar_notices")
