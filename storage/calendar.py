"""The working calendar as stored: every version of every year's notice, append-only, written in
the caller's transaction. The latest version of each (year, scope) is in force; the highest row id
is the calendar's revision, which tells a cached calendar it is out of date."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from domain.calendar import Notice, Scope
from domain.calendar_notice import notice_document, parse_notice
from storage.tables import CalendarNoticeRow


@dataclass(frozen=True)
class NoticeVersion:
    """One import of a notice: what it said, who entered it, when and from which file."""

    id: int
    year: int
    scope: Scope
    version: int
    notice: Notice
    source_file: str
    source_sha256: str
    imported_by: str
    imported_at: datetime
    note: str


def _version(row: CalendarNoticeRow) -> NoticeVersion:
    return NoticeVersion(
        row.id,
        row.year,
        Scope(row.scope),
        row.version,
        parse_notice(row.document),
        row.source_file,
        row.source_sha256,
        row.imported_by,
        row.imported_at,
        row.note,
    )


def calendar_revision(session: Session) -> int:
    """Grows with every import; 0 for an empty calendar."""
    return session.scalar(select(func.coalesce(func.max(CalendarNoticeRow.id), 0))) or 0


def notices_in_force(session: Session) -> list[NoticeVersion]:
    latest = (
        select(CalendarNoticeRow.year, CalendarNoticeRow.scope, func.max(CalendarNoticeRow.version).label("version"))
        .group_by(CalendarNoticeRow.year, CalendarNoticeRow.scope)
        .subquery()
    )
    rows = session.scalars(
        select(CalendarNoticeRow)
        .join(
            latest,
            (CalendarNoticeRow.year == latest.c.year)
            & (CalendarNoticeRow.scope == latest.c.scope)
            & (CalendarNoticeRow.version == latest.c.version),
        )
        .order_by(CalendarNoticeRow.year, CalendarNoticeRow.scope)
    )
    return [_version(row) for row in rows]


def notice_history(session: Session, year: int | None = None) -> list[NoticeVersion]:
    """Every version, oldest first; of one year if given."""
    query = select(CalendarNoticeRow).order_by(CalendarNoticeRow.id)
    if year is not None:
        query = query.where(CalendarNoticeRow.year == year)
    return [_version(row) for row in session.scalars(query)]


def add_notice_version(
    session: Session, notice: Notice, source_file: str, source_sha256: str, by: str, at: datetime, note: str
) -> int:
    """Stores the notice as the next version of its (year, scope); returns the version number. Two
    imports of one year racing each other: the second fails on the unique (year, scope, version)."""
    latest = session.scalar(
        select(func.max(CalendarNoticeRow.version)).where(
            CalendarNoticeRow.year == notice.year, CalendarNoticeRow.scope == str(notice.scope)
        )
    )
    version = (latest or 0) + 1
    session.add(
        CalendarNoticeRow(
            year=notice.year,
            scope=str(notice.scope),
            version=version,
            document=notice_document(notice),
            source_file=source_file[:255],
            source_sha256=source_sha256,
            imported_by=by,
            imported_at=at,
            note=note,
        )
    )
    session.flush()
    return version
