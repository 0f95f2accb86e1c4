from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError, IntegrityError
from sqlalchemy.orm import Session

from storage.ivr_versions import (
    LiveFlow,
    add_version,
    audit_events,
    get_version,
    list_versions,
    live_flow,
    previous_live,
    record_publish,
)
from storage.tables import IvrEventRow

NOW = datetime(2026, 12, 8, 9, 0, tzinfo=UTC)


def later(minutes: int) -> datetime:
    return NOW + timedelta(minutes=minutes)


def test_a_draft_is_stored_as_written_and_audited(session: Session) -> None:
    source = "version: 1\n# 备注：节假日\nstart: greeting\n"
    number = add_version(session, source, "admin-li", "节假日", NOW)
    session.expunge_all()
    version = get_version(session, number)
    assert version is not None
    assert (version.source, version.note, version.created_by, version.created_at, version.status) == (
        source,
        "节假日",
        "admin-li",
        NOW,
        "draft",
    )
    [event] = audit_events(session)
    assert (event.at, event.actor, event.action, event.version, event.detail) == (
        NOW,
        "admin-li",
        "draft",
        number,
        "节假日",
    )
    assert live_flow(session) is None and previous_live(session) is None


def test_numbers_increase_and_unknown_ones_are_none(session: Session) -> None:
    first = add_version(session, "a: 1", "admin", "", NOW)
    second = add_version(session, "a: 2", "admin", "", NOW)
    assert second > first
    assert get_version(session, second + 1) is None


def test_the_latest_publish_or_rollback_is_live(session: Session) -> None:
    one, two, three = (add_version(session, f"v: {i}", "admin", "", NOW) for i in range(3))
    record_publish(session, one, "admin", "publish", "first version live", later(1))
    assert live_flow(session) == LiveFlow(one, "v: 0") and previous_live(session) is None
    record_publish(session, two, "admin", "publish", f"replaces version {one}", later(2))
    assert live_flow(session) == LiveFlow(two, "v: 1") and previous_live(session) == one
    record_publish(session, one, "admin", "rollback", f"rolled back from version {two}", later(3))
    assert live_flow(session) == LiveFlow(one, "v: 0") and previous_live(session) == two
    add_version(session, "v: 9", "admin", "", later(4))  # a later draft changes nothing
    assert (live := live_flow(session)) is not None and live.number == one
    statuses = {v.number: v.status for v in list_versions(session)}
    assert statuses == {one: "live", two: "retired", three: "draft", three + 1: "draft"}
    assert (second := get_version(session, two)) is not None and second.status == "retired"
    assert (third := get_version(session, three)) is not None and third.status == "draft"


def test_versions_and_events_are_listed_newest_first(session: Session) -> None:
    one = add_version(session, "v: 1", "admin-a", "", NOW)
    two = add_version(session, "v: 2", "admin-b", "", later(1))
    record_publish(session, two, "admin-c", "publish", "first version live", later(2))
    assert [v.number for v in list_versions(session)] == [two, one]
    events = audit_events(session)
    assert [(e.actor, e.action, e.version, e.at) for e in events] == [
        ("admin-c", "publish", two, later(2)),
        ("admin-b", "draft", two, later(1)),
        ("admin-a", "draft", one, NOW),
    ]
    assert [e.action for e in audit_events(session, limit=1)] == ["publish"]


def test_only_publish_and_rollback_make_a_version_live(session: Session) -> None:
    number = add_version(session, "v: 1", "admin", "", NOW)
    with pytest.raises(ValueError, match="'draft' does not make a version live"):
        record_publish(session, number, "admin", "draft", "", NOW)
    with pytest.raises(LookupError, match=f"no IVR flow version {number + 1}"):
        record_publish(session, number + 1, "admin", "publish", "", NOW)
    assert live_flow(session) is None


def test_the_database_refuses_unknown_actions_and_versions(session: Session) -> None:
    number = add_version(session, "v: 1", "admin", "", NOW)
    for row in (
        IvrEventRow(at=NOW, actor="x", action="delete", version=number, detail=""),
        IvrEventRow(at=NOW, actor="x", action="publish", version=number + 1, detail=""),
    ):
        with pytest.raises(IntegrityError), session.begin_nested():
            session.add(row)
            session.flush()
    assert [e.action for e in audit_events(session)] == ["draft"]


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE ivr_versions SET source = 'rewritten'",
        "DELETE FROM ivr_versions",
        "UPDATE ivr_events SET actor = 'someone else'",
        "DELETE FROM ivr_events",
    ],
)
def test_versions_and_their_audit_are_append_only_in_the_database(session: Session, statement: str) -> None:
    number = add_version(session, "version: 1\n", "admin-li", "", NOW)
    record_publish(session, number, "admin-li", "publish", "", later(1))
    with pytest.raises(DatabaseError, match="append-only"), session.begin_nested():
        session.execute(text(statement))
    assert (version := get_version(session, number)) is not None and version.source == "version: 1\n"
    assert [(e.actor, e.action) for e in audit_events(session)] == [("admin-li", "publish"), ("admin-li", "draft")]
