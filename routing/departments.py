"""The dispatch network below the hotline centre: level-2 units and their level-3 sub-units."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from domain.errors import Invalid

ROOT_LEVEL = 2  # the hotline centre itself is level 1
LEAF_LEVEL = 3
_FIELDS = ("code", "name", "duties", "parent", "keywords", "phone")
_PHONE = re.compile(r"[0-9]{3,20}")  # fullmatch: `$` would allow a final newline
MAX_LENGTHS = {"code": 32, "name": 128}  # what the database holds (storage/tables.py DepartmentRow)


@dataclass(frozen=True)
class Department:
    code: str
    name: str
    duties: str
    parent: str | None
    keywords: tuple[str, ...]
    level: int
    phone: str | None = None  # the unit's phone for transfers and three-way calls (a SIP extension)


class InvalidDepartments(Invalid, ValueError):
    code = "departments_invalid"

    def __init__(self, errors: list[str]):
        self.errors = errors
        super().__init__("invalid departments:\n" + "\n".join(f"  - {e}" for e in errors))

    def fields(self) -> dict[str, Any]:
        return {"errors": self.errors}


class DepartmentTree:
    """Departments by code; built from an already valid list (see parse_departments)."""

    def __init__(self, departments: Iterable[Department]):
        self._by_code = {d.code: d for d in departments}
        self._children: dict[str, list[Department]] = {}
        for dept in self._by_code.values():
            if dept.parent is not None:
                self._children.setdefault(dept.parent, []).append(dept)

    def __iter__(self) -> Iterator[Department]:
        return iter(self._by_code.values())

    def __len__(self) -> int:
        return len(self._by_code)

    def get(self, code: str) -> Department | None:
        return self._by_code.get(code)

    def children(self, code: str) -> list[Department]:
        return list(self._children.get(code, ()))

    def is_subunit(self, parent: str, child: str) -> bool:
        dept = self._by_code.get(child)
        return dept is not None and dept.parent == parent

    def roots(self) -> list[Department]:
        return [d for d in self._by_code.values() if d.parent is None]


def _where(index: int, entry: object) -> str:
    code = entry.get("code") if isinstance(entry, dict) else None
    return f"[{index}] (code '{code}')" if isinstance(code, str) and code.strip() else f"[{index}]"


def _entry_errors(index: int, entry: object) -> list[str]:
    where = _where(index, entry)
    if not isinstance(entry, dict):
        return [f"{where}: expected an object, got {type(entry).__name__}"]
    errors = [f"{where}.{key}: unknown field; known: {', '.join(_FIELDS)}" for key in entry if key not in _FIELDS]
    for field in ("code", "name", "duties"):
        value = entry.get(field)
        if field not in entry:
            errors.append(f"{where}.{field}: missing")
        elif not isinstance(value, str):
            errors.append(f"{where}.{field}: expected a string, got {type(value).__name__}")
        elif not value.strip():
            errors.append(f"{where}.{field}: empty")
        elif field in MAX_LENGTHS and len(value) > MAX_LENGTHS[field]:
            errors.append(f"{where}.{field}: longer than {MAX_LENGTHS[field]} characters ({len(value)})")
    parent = entry.get("parent")
    if parent is not None and not (isinstance(parent, str) and parent.strip()):
        errors.append(f"{where}.parent: expected a department code or null, got {parent!r}")
    phone = entry.get("phone")
    if phone is not None and not (isinstance(phone, str) and _PHONE.fullmatch(phone)):
        errors.append(f"{where}.phone: expected 3 to 20 digits (the unit's phone extension), got {phone!r}")
    keywords = entry.get("keywords", [])
    if not isinstance(keywords, list):
        errors.append(f"{where}.keywords: expected a list of strings, got {type(keywords).__name__}")
    else:
        for i, word in enumerate(keywords):
            if not (isinstance(word, str) and word.strip()):
                errors.append(f"{where}.keywords[{i}]: expected a non-empty string, got {word!r}")
    return errors


def _tree_errors(entries: list[dict[str, Any]]) -> list[str]:
    """Duplicate codes, unknown parents, cycles, and units deeper than level 3."""
    errors: list[str] = []
    index_of: dict[str, int] = {}
    for index, entry in enumerate(entries):
        code = entry["code"]
        if code in index_of:
            errors.append(f"{_where(index, entry)}.code: duplicate of entry [{index_of[code]}]")
        else:
            index_of[code] = index
    parent_of = {entry["code"]: entry.get("parent") for entry in entries}
    in_reported_cycle: set[str] = set()
    for index, entry in enumerate(entries):
        where, parent = _where(index, entry), entry.get("parent")
        if parent is None:
            continue
        if parent not in parent_of:
            errors.append(f"{where}.parent: unknown department '{parent}'")
            continue
        chain = [entry["code"]]
        while (up := parent_of.get(chain[-1])) is not None and up in parent_of and up not in chain:
            chain.append(up)
        if up is not None and up in chain:
            if up not in in_reported_cycle:
                loop = chain[chain.index(up) :] + [up]
                in_reported_cycle.update(loop)
                errors.append(f"{where}.parent: cycle {' -> '.join(loop)}")
        elif up is None and len(chain) > LEAF_LEVEL - ROOT_LEVEL + 1:
            errors.append(
                f"{where}.parent: '{parent}' is itself a sub-unit; the network has only two levels below the centre"
            )
    return errors


def parse_departments(data: object) -> DepartmentTree:
    """Checks a JSON list of departments; raises InvalidDepartments naming each entry and field at fault."""
    if not isinstance(data, list):
        raise InvalidDepartments([f"expected a list of departments, got {type(data).__name__}"])
    errors = [e for index, entry in enumerate(data) for e in _entry_errors(index, entry)]
    if errors:
        raise InvalidDepartments(errors)
    if errors := _tree_errors(data):
        raise InvalidDepartments(errors)
    return DepartmentTree(
        Department(
            code=entry["code"],
            name=entry["name"],
            duties=entry["duties"],
            parent=entry.get("parent"),
            keywords=tuple(entry.get("keywords", ())),
            level=ROOT_LEVEL if entry.get("parent") is None else LEAF_LEVEL,
            phone=entry.get("phone"),
        )
        for entry in data
    )


def load_departments(path: Path) -> DepartmentTree:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InvalidDepartments([f"{path}: cannot read JSON: {exc}"]) from None
    return parse_departments(data)
