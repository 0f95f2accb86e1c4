"""The working calendar the centre maintains, on SQLite and PostgreSQL: entering next year's notice
moves exactly the deadlines its preview said, in one transaction with an audit entry per moved
ticket; a bad notice or a failure midway changes nothing; every process sees an import on its next
use; versions are append-only."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import Connection, text
from sqlalchemy.exc import DatabaseError
from sqlalchemy.orm import Session

from domain.calendar import Scope, YearState
from domain.calendar_notice import InvalidNotice
from domain.deadline_moves import DEADLINE_MOVED
from domain.tickets import SHANGHAI, Channel, RequestType, Role, Ticket
from services.calendar import WorkingCalendars
from services.ticket_intake import TicketIntake
from storage.calendar import calendar_revision, notice_history
from storage.tickets import audit_trail, load_ticket_with_deadlines

NOTICE_2027 = (Path(__file__).parents[1] / "data" / "calendar-2027.yaml").read_text(encoding="utf-8")
LATE_DECEMBER = datetime(2026, 12, 20, 10, 0, tzinfo=SHANGHAI)  # a Sunday
LOCAL_TODAY = "year: {year}\nscope: local\nnotice: 市政府关于临时休息的通知\nholidays:\n  - name: 临时休息日\n    days_off: {day}\n"


@pytest.fixture
def sessions(connection: Connection) -> Callable[[], Session]:
    return lambda: Session(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)


@pytest.fixture
def calendars(sessions: Callable[[], Session]) -> WorkingCalendars:
    return WorkingCalendars(sessions, clock=lambda: datetime(2026, 12, 7, 9, 0, tzinfo=UTC))


def open_complaint(sessions: Callable[[], Session], calendars: WorkingCalendars, at: datetime) -> Ticket:
    with sessions() as session, session.begin():
        return TicketIntake(calendars).open_ticket(
            session,
            "agent1",
            Role.AGENT,
            at,
            request_type=RequestType.COMPLAINT,
            channel=Channel.PHONE,
            content="小区门口垃圾堆放多日无人清运",
        )


def deadline_of(sessions: Callable[[], Session], number: str):
    with sessions() as session:
        found = load_ticket_with_deadlines(session, number)
    assert found is not None and found[1] is not None
    return found[1]


def test_the_migrated_calendar_knows_the_years_chinesecalendar_knows(calendars: WorkingCalendars) -> None:
    years = {y.year: y for y in calendars.years(date(2026, 12, 7))}
    assert years[2004].state is years[2026].state is YearState.CONFIRMED
    assert years[2027].state is YearState.PROVISIONAL and years[2027].national is None
    assert years[2026].national is not None and years[2026].national.imported_by == "migration-0009"


def test_a_late_december_complaint_moves_as_the_preview_said_when_2027_is_entered(
    sessions: Callable[[], Session], calendars: WorkingCalendars
) -> None:
    late = open_complaint(sessions, calendars, LATE_DECEMBER)
    early = open_complaint(sessions, calendars, datetime(2026, 11, 2, 10, 0, tzinfo=SHANGHAI))
    before = deadline_of(sessions, late.number)
    assert before.provisional and before.close_by.astimezone(SHANGHAI).date() == date(2027, 1, 8)

    preview = calendars.preview(NOTICE_2027, "2027.yaml")
    assert [m.number for m in preview.moves] == [late.number]
    assert deadline_of(sessions, late.number) == before  # a preview stores nothing
    assert calendars.year(2027).state is YearState.PROVISIONAL

    entered = calendars.enter(NOTICE_2027, "2027.yaml", "admin-li")
    assert entered.version == 1 and entered.replaces_version is None
    assert [(m.number, m.before, m.after) for m in entered.moves] == [
        (m.number, m.before, m.after) for m in preview.moves
    ]
    after = deadline_of(sessions, late.number)
    assert after == preview.moves[0].after
    assert after.close_by.astimezone(SHANGHAI).date() == date(2027, 1, 11) and not after.provisional
    assert preview.summary.by_shift_days == {3: 1} and preview.summary.provisional_after == 0
    assert date(2027, 1, 1) in {c.day for c in preview.day_changes if not c.is_workday}

    with sessions() as session:
        moved = [r for r in audit_trail(session, late.number) if r.action == DEADLINE_MOVED]
        assert [(r.actor, r.role) for r in moved] == [("admin-li", "admin")]
        assert "2027-01-08 → 2027-01-11" in (moved[0].note or "") and "2027.yaml" in (moved[0].note or "")
        assert [r.action for r in audit_trail(session, early.number)] == ["create"]  # not moved: not audited
        (version,) = notice_history(session, 2027)
    assert (version.imported_by, version.source_file, version.scope) == ("admin-li", "2027.yaml", Scope.NATIONAL)
    assert len(version.source_sha256) == 64
    assert calendars.year(2027).state is YearState.CONFIRMED


def test_replacing_a_year_is_a_new_version_and_moves_deadlines_back(
    sessions: Callable[[], Session], calendars: WorkingCalendars
) -> None:
    late = open_complaint(sessions, calendars, LATE_DECEMBER)
    calendars.enter(NOTICE_2027, "2027.yaml", "admin-li")
    corrected = NOTICE_2027.replace(
        "days_off: {from: 2027-01-01, to: 2027-01-03}\n    total_days: 3\n",
        "days_off: {from: 2027-01-02, to: 2027-01-03}\n",
    )
    replaced = calendars.enter(corrected, "2027-corrected.yaml", "admin-wang")
    assert (replaced.version, replaced.replaces_version) == (2, 1)
    assert deadline_of(sessions, late.number).close_by.astimezone(SHANGHAI).date() == date(2027, 1, 8)
    assert [v.version for v in calendars.history(2027)] == [1, 2]


def test_a_bad_notice_changes_nothing(sessions: Callable[[], Session], calendars: WorkingCalendars) -> None:
    late = open_complaint(sessions, calendars, LATE_DECEMBER)
    with sessions() as session:
        revision = calendar_revision(session)
    with pytest.raises(InvalidNotice) as refused:
        calendars.enter(NOTICE_2027.replace("2027-02-20]", "2027-02-22]"), "2027.yaml", "admin-li")
    assert [e.where for e in refused.value.errors] == ["holidays[1].make_up_workdays[1]"]
    with sessions() as session:
        assert calendar_revision(session) == revision
    assert deadline_of(sessions, late.number).provisional


def refuse_updates_of(connection: Connection, number: str) -> None:
    """A real database failure midway: the database itself refuses to update one ticket."""
    if connection.dialect.name == "postgresql":
        connection.execute(
            text(
                "CREATE FUNCTION refuse_ticket() RETURNS trigger LANGUAGE plpgsql AS "
                f"$$ BEGIN IF NEW.number = '{number}' THEN RAISE EXCEPTION 'refused for the test'; END IF; RETURN NEW; END $$"
            )
        )
        connection.execute(
            text("CREATE TRIGGER refuse_ticket BEFORE UPDATE ON tickets FOR EACH ROW EXECUTE FUNCTION refuse_ticket()")
        )
    else:
        connection.execute(
            text(
                f"CREATE TRIGGER refuse_ticket BEFORE UPDATE ON tickets WHEN NEW.number = '{number}' "
                "BEGIN SELECT RAISE(ABORT, 'refused for the test'); END"
            )
        )


def test_a_failure_midway_changes_nothing(
    connection: Connection, sessions: Callable[[], Session], calendars: WorkingCalendars
) -> None:
    first = open_complaint(sessions, calendars, LATE_DECEMBER)
    second = open_complaint(sessions, calendars, LATE_DECEMBER)
    before = {t.number: deadline_of(sessions, t.number) for t in (first, second)}
    with sessions() as session:
        revision = calendar_revision(session)
    refuse_updates_of(connection, second.number)  # the first ticket's move is written, then this one fails
    with pytest.raises(DatabaseError, match="refused for the test"):
        calendars.enter(NOTICE_2027, "2027.yaml", "admin-li")
    assert {n: deadline_of(sessions, n) for n in before} == before
    with sessions() as session:
        assert calendar_revision(session) == revision
        assert [r.action for r in audit_trail(session, first.number)] == ["create"]
    assert calendars.year(2027).state is YearState.PROVISIONAL


def test_every_process_sees_an_import_on_its_next_use(
    sessions: Callable[[], Session], calendars: WorkingCalendars
) -> None:
    fastagi = WorkingCalendars(sessions)  # another instance: the IVR's, in another process or thread
    day = date(2026, 12, 8)  # a Tuesday
    assert fastagi.is_workday(day)
    calendars.enter(LOCAL_TODAY.format(year=2026, day=day.isoformat()), "closed.yaml", "admin-li")
    assert not fastagi.is_workday(day)
    assert calendars.year(2026).local is not None and calendars.year(2026).state is YearState.CONFIRMED


def test_the_calendar_warns_from_november_until_next_year_is_entered(calendars: WorkingCalendars) -> None:
    assert calendars.status(date(2026, 10, 31)).warnings == []
    (warning,) = calendars.status(date(2026, 11, 1)).warnings
    assert "2027" in warning and "weekends only" in warning
    calendars.enter(NOTICE_2027, "2027.yaml", "admin-li")
    status = calendars.status(date(2026, 12, 7))
    assert (status.warnings, status.confirmed_until) == ([], date(2027, 12, 31))


@pytest.mark.parametrize(
    "statement", ["UPDATE calendar_notices SET note = 'rewritten'", "DELETE FROM calendar_notices"]
)
def test_notice_versions_are_append_only(sessions: Callable[[], Session], statement: str) -> None:
    with sessions() as session, pytest.raises(DatabaseError, match="append-only"), session.begin():
        session.execute(text(statement))
