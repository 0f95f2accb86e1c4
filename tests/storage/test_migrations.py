import json
import logging
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from pydantic import TypeAdapter
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from domain.tickets import SHANGHAI, Channel, RequestType, Ticket, TicketStatus
from storage.database import make_engine
from storage.migrate import upgrade_database
from storage.tables import Base
from storage.tickets import audit_trail, load_ticket_with_deadlines
from tests.calendars import deadlines_of
from tests.conftest import _fresh_postgres_database


def test_migrated_schema_matches_the_models(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True, "compare_server_default": True})
        assert compare_metadata(context, Base.metadata) == []


def test_upgrade_is_repeatable_and_keeps_application_logging(database_url: str) -> None:
    app_logger = logging.getLogger("hotline.probe")
    root_level = logging.getLogger().level
    upgrade_database(database_url)
    assert not app_logger.disabled
    assert logging.getLogger().level == root_level


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'before-0009.db'}"
    else:
        yield from _fresh_postgres_database("migration")


def test_tickets_stored_without_a_deadline_get_one_when_the_calendar_arrives(fresh_url: str) -> None:
    """Before 0009 a ticket whose limit ran past chinesecalendar's last year was stored with no deadline."""
    upgrade_database(fresh_url, "0008")
    created = datetime(2026, 12, 11, 9, 0, tzinfo=SHANGHAI)  # 15 working days end in 2027
    stored = Ticket(
        "2026121100001", RequestType.COMPLAINT, Channel.PHONE, "路灯不亮", created, status=TicketStatus.DISPATCHED
    )
    within = Ticket(
        "2026110200001", RequestType.COMPLAINT, Channel.PHONE, "噪音", datetime(2026, 11, 2, 9, 0, tzinfo=SHANGHAI)
    )
    engine = make_engine(fresh_url)
    codec = TypeAdapter(Ticket)
    with engine.begin() as connection:
        for ticket, deadline in ((stored, None), (within, deadlines_of(within).close_by)):
            connection.execute(
                text(
                    "INSERT INTO tickets (number, status, request_type, urgent, channel, created_at, deadline_at, state, version) "
                    "VALUES (:number, :status, 'complaint', false, 'phone', :created, :deadline, :state, 1)"
                ),
                {
                    "number": ticket.number,
                    "status": str(ticket.status),
                    "created": ticket.created_at.astimezone(UTC).replace(tzinfo=None),
                    "deadline": deadline.astimezone(UTC).replace(tzinfo=None) if deadline else None,
                    "state": json.dumps(codec.dump_python(ticket, mode="json")),
                },
            )
    upgrade_database(fresh_url)
    with Session(engine) as session:
        got = {n: load_ticket_with_deadlines(session, n) for n in (stored.number, within.number)}
        audit = {n: [(r.action, r.note or "") for r in audit_trail(session, n)] for n in got}
    engine.dispose()
    found, found_within = got[stored.number], got[within.number]
    assert found is not None and found_within is not None
    given = found[1]
    assert given is not None and given.provisional and given.close_by.astimezone(SHANGHAI).date() == date(2027, 1, 1)
    assert given.warn_at < given.close_by
    assert [a for a, _ in audit[stored.number]] == ["deadline_moved"] and "设为 2027-01-01（暂定）" in audit[
        stored.number
    ][0][1]
    kept = found_within[1]
    assert kept is not None and kept.close_by == deadlines_of(within).close_by and not kept.provisional
    assert audit[within.number] == []  # its deadline did not move: only its warning time was added
