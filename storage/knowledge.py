"""Knowledge-base entries as stored; the search index is built from them (knowledge.index)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from knowledge.entries import KnowledgeEntry
from storage.tables import KnowledgeEntryRow


def _entry(row: KnowledgeEntryRow) -> KnowledgeEntry:
    return KnowledgeEntry(
        id=row.id,
        question=row.question,
        answer=row.answer,
        keywords=tuple(row.keywords),
        department_code=row.department_code,
        valid_from=row.valid_from,
        valid_to=row.valid_to,
        retired=row.retired,
    )


def _fill(row: KnowledgeEntryRow, entry: KnowledgeEntry) -> None:
    row.question, row.answer, row.keywords = entry.question, entry.answer, list(entry.keywords)
    row.department_code, row.valid_from, row.valid_to = entry.department_code, entry.valid_from, entry.valid_to
    row.retired = entry.retired
    row.updated_at = datetime.now(UTC)


def add_entries(session: Session, entries: Iterable[KnowledgeEntry]) -> list[KnowledgeEntry]:
    rows = []
    for entry in entries:
        row = KnowledgeEntryRow()
        _fill(row, entry)
        session.add(row)
        rows.append(row)
    session.flush()
    return [_entry(row) for row in rows]


def update_entry(session: Session, entry: KnowledgeEntry) -> KnowledgeEntry | None:
    row = session.get(KnowledgeEntryRow, entry.id)
    if row is None:
        return None
    _fill(row, entry)
    session.flush()
    return _entry(row)


def get_entry(session: Session, entry_id: int) -> KnowledgeEntry | None:
    row = session.get(KnowledgeEntryRow, entry_id)
    return _entry(row) if row else None


def all_entries(session: Session) -> list[KnowledgeEntry]:
    return [_entry(row) for row in session.scalars(select(KnowledgeEntryRow).order_by(KnowledgeEntryRow.id))]
