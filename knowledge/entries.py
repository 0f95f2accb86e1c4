"""Knowledge base entries and their validity rules."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from domain.errors import Invalid

MAX_QUESTION_CHARS = 500
MAX_ANSWER_CHARS = 5000


@dataclass(frozen=True, slots=True)
class KnowledgeEntry:
    id: int | None  # None until stored
    question: str
    answer: str
    keywords: tuple[str, ...] = ()
    department_code: str | None = None
    valid_from: date | None = None  # inclusive
    valid_to: date | None = None  # inclusive: the last day the answer still holds
    retired: bool = False


class InvalidEntry(Invalid, ValueError):
    code = "knowledge_entry_invalid"

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message

    def fields(self) -> dict[str, Any]:
        return {"field": self.field}


def is_active(entry: KnowledgeEntry, on: date) -> bool:
    if entry.retired:
        return False
    if entry.valid_from is not None and on < entry.valid_from:
        return False
    return entry.valid_to is None or on <= entry.valid_to


def entry_problems(entry: KnowledgeEntry) -> list[InvalidEntry]:
    """Every problem with the entry, so an import can report them all at once."""
    problems = []
    for field, text, limit in (
        ("question", entry.question, MAX_QUESTION_CHARS),
        ("answer", entry.answer, MAX_ANSWER_CHARS),
    ):
        if not text.strip():
            problems.append(InvalidEntry(field, "must not be empty"))
        elif len(text) > limit:
            problems.append(InvalidEntry(field, f"{len(text)} characters, at most {limit} allowed"))
    if any(not keyword.strip() for keyword in entry.keywords):
        problems.append(InvalidEntry("keywords", "must not contain empty keywords"))
    if entry.valid_from and entry.valid_to and entry.valid_to < entry.valid_from:
        problems.append(InvalidEntry("valid_to", f"{entry.valid_to} is before valid_from {entry.valid_from}"))
    return problems


def validate_entry(entry: KnowledgeEntry) -> None:
    """Raises InvalidEntry for the first problem found."""
    problems = entry_problems(entry)
    if problems:
        raise problems[0]
