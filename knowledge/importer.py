"""Bulk import of knowledge entries from JSON or CSV exports.

An import is all or nothing: every problem in the file is collected and raised together as
ImportErrors, so whoever maintains the spreadsheet can fix them in one pass.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator, Mapping
from datetime import date
from typing import Any

from domain.errors import Invalid
from knowledge.entries import KnowledgeEntry, entry_problems

FIELDS = ("question", "answer", "keywords", "department", "valid_from", "valid_to")
REQUIRED = ("question", "answer")
_KEYWORD_SEPARATORS = re.compile(r"[、,，;；]")


class ImportErrors(Invalid, ValueError):
    code = "knowledge_import_invalid"

    def __init__(self, errors: list[str]) -> None:
        super().__init__(f"{len(errors)} problem(s): " + "; ".join(errors))
        self.errors = errors

    def fields(self) -> dict[str, Any]:
        return {"errors": self.errors}


def parse_json(text: str) -> list[KnowledgeEntry]:
    """A JSON list of objects; rows are numbered from 1 in list order."""
    try:
        records = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ImportErrors([f"line {exc.lineno}: invalid JSON: {exc.msg}"]) from None
    if not isinstance(records, list):
        raise ImportErrors(["expected a JSON list of objects"])
    errors: list[str] = []
    entries = []
    for row, record in enumerate(records, start=1):
        if not isinstance(record, dict):
            errors.append(f"row {row}: expected an object")
            continue
        entry = _entry(record, row, errors)
        if entry is not None:
            entries.append(entry)
    if errors:
        raise ImportErrors(errors)
    return entries


def parse_csv(text: str) -> list[KnowledgeEntry]:
    """UTF-8 CSV with a header row; rows are numbered as a spreadsheet shows them (header = row 1)."""
    try:
        return _parse_rows(csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline="")))
    except csv.Error as exc:  # e.g. a field over the csv module's limit (128 KiB), or a stray NUL
        raise ImportErrors([f"not readable as CSV: {exc}"]) from None


def _parse_rows(rows: Iterator[list[str]]) -> list[KnowledgeEntry]:
    header = [name.strip() for name in next(rows, [])]
    errors = [f"header: unknown column {name!r}" for name in header if name not in FIELDS]
    errors += [f"header: missing column {name!r}" for name in REQUIRED if name not in header]
    if errors:
        raise ImportErrors(errors)
    entries = []
    for row, values in enumerate(rows, start=2):
        if not any(value.strip() for value in values):
            continue
        if len(values) != len(header):
            errors.append(f"row {row}: {len(values)} columns, the header has {len(header)}")
            continue
        entry = _entry(dict(zip(header, values, strict=True)), row, errors)
        if entry is not None:
            entries.append(entry)
    if errors:
        raise ImportErrors(errors)
    return entries


def _entry(record: Mapping[str, object], row: int, errors: list[str]) -> KnowledgeEntry | None:
    """The entry for one record, or None after appending its problems to errors."""
    problems = [f"{name}: unknown field" for name in record if name not in FIELDS]

    def text(name: str) -> str:
        value = record.get(name)
        if value is None:
            return ""
        if not isinstance(value, str):
            problems.append(f"{name}: expected text, got {type(value).__name__}")
            return ""
        return value.strip()

    def day(name: str) -> date | None:
        value = text(name)
        if not value:
            return None
        try:
            return date.fromisoformat(value)
        except ValueError:
            problems.append(f"{name}: {value!r} is not a date like 2025-01-31")
            return None

    entry = KnowledgeEntry(
        id=None,
        question=text("question"),
        answer=text("answer"),
        keywords=_keywords(record.get("keywords"), problems),
        department_code=text("department") or None,
        valid_from=day("valid_from"),
        valid_to=day("valid_to"),
    )
    problems += [str(problem) for problem in entry_problems(entry)]
    errors.extend(f"row {row}, {problem}" for problem in problems)
    return None if problems else entry


def _keywords(value: object, problems: list[str]) -> tuple[str, ...]:
    """A list of strings, or one string separated by 、 or commas; blanks are dropped."""
    if value is None:
        return ()
    if isinstance(value, str):
        parts = _KEYWORD_SEPARATORS.split(value)
    elif isinstance(value, list) and all(isinstance(part, str) for part in value):
        parts = value
    else:
        problems.append("keywords: expected a list of strings or a 、-separated string")
        return ()
    return tuple(part.strip() for part in parts if part.strip())
