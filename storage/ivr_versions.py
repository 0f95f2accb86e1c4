"""IVR flow versions and their audit trail, written in the caller's transaction. A version is never
changed once stored and events are only ever appended: the live version is the version of the
latest publish or rollback event."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from storage.tables import IvrEventRow, IvrVersionRow

GOING_LIVE = ("publish", "rollback")


@dataclass(frozen=True)
class IvrVersion:
    number: int
    source: str
    note: str
    created_by: str
    created_at: datetime
    status: str  # live | draft (never published) | retired (was live, is not now)


@dataclass(frozen=True)
class IvrEvent:
    id: int
    at: datetime
    actor: str
    action: str  # draft | publish | rollback
    version: int
    detail: str


@dataclass(frozen=True)
class LiveFlow:
    number: int
    source: str


def _going_live() -> Select[int]:
    return select(IvrEventRow.version).where(IvrEventRow.action.in_(GOING_LIVE)).order_by(IvrEventRow.id.desc())


def _live_number(session: Session) -> int | None:
    return session.scalar(_going_live().limit(1))


def _ever_live(session: Session) -> set[int]:
    return set(session.scalars(select(IvrEventRow.version).where(IvrEventRow.action.in_(GOING_LIVE)).distinct()))


def _version(row: IvrVersionRow, live: int | None, ever_live: set[int]) -> IvrVersion:
    status = "live" if row.number == live else "retired" if row.number in ever_live else "draft"
    return IvrVersion(row.number, row.source, row.note, row.created_by, row.created_at, status)


def add_version(session: Session, source: str, actor: str, note: str, now: datetime) -> int:
    """Stores a new version (a draft) and its 'draft' event; returns its number."""
    row = IvrVersionRow(source=source, note=note, created_by=actor, created_at=now)
    session.add(row)
    session.flush()
    session.add(IvrEventRow(at=now, actor=actor, action="draft", version=row.number, detail=note))
    session.flush()
    return row.number


def get_version(session: Session, number: int) -> IvrVersion | None:
    row = session.get(IvrVersionRow, number)
    if row is None:
        return None
    went_live = session.scalar(
        select(IvrEventRow.id).where(IvrEventRow.version == number, IvrEventRow.action.in_(GOING_LIVE)).limit(1)
    )
    return _version(row, _live_number(session), {number} if went_live is not None else set())


def list_versions(session: Session) -> list[IvrVersion]:
    """Every version, newest first."""
    live, ever_live = _live_number(session), _ever_live(session)
    rows = session.scalars(select(IvrVersionRow).order_by(IvrVersionRow.number.desc()))
    return [_version(row, live, ever_live) for row in rows]


def record_publish(session: Session, number: int, actor: str, action: str, detail: str, now: datetime) -> None:
    """Makes version `number` the live one: appends a 'publish' or 'rollback' event."""
    if action not in GOING_LIVE:
        raise ValueError(f"action {action!r} does not make a version live; use one of: {', '.join(GOING_LIVE)}")
    if session.get(IvrVersionRow, number) is None:
        raise LookupError(f"no IVR flow version {number}")
    session.add(IvrEventRow(at=now, actor=actor, action=action, version=number, detail=detail))
    session.flush()


def live_flow(session: Session) -> LiveFlow | None:
    """The live version's number and source, in one query (the FastAGI server polls it)."""
    row = session.execute(
        select(IvrVersionRow.number, IvrVersionRow.source)
        .join(IvrEventRow, IvrEventRow.version == IvrVersionRow.number)
        .where(IvrEventRow.action.in_(GOING_LIVE))
        .order_by(IvrEventRow.id.desc())
        .limit(1)
    ).first()
    return None if row is None else LiveFlow(row.number, row.source)


def previous_live(session: Session) -> int | None:
    """The version that was live before the live one; None if none was."""
    live = _live_number(session)
    if live is None:
        return None
    return session.scalar(_going_live().where(IvrEventRow.version != live).limit(1))


def audit_events(session: Session, limit: int = 100) -> list[IvrEvent]:
    """The latest events, newest first."""
    rows = session.scalars(select(IvrEventRow).order_by(IvrEventRow.id.desc()).limit(limit))
    return [IvrEvent(r.id, r.at, r.actor, r.action, r.version, r.detail) for r in rows]
