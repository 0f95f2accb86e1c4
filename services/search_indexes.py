"""The in-memory search structures built from the database on first use and rebuilt when admins
change what they are built from: the department tree, triage (departments and past dispatches)
and the knowledge-base index. One set per process, shared by the API's routes and speech
drafting; several processes each hold their own."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from sqlalchemy.orm import Session

from knowledge.index import KnowledgeIndex
from routing.departments import DepartmentTree
from routing.triage import Triage
from storage.departments import list_departments
from storage.knowledge import all_entries
from storage.tickets import past_dispatches

T = TypeVar("T")


class Lazy(Generic[T]):
    """Builds a value from the database once; `reset()` makes the next use rebuild it."""

    def __init__(self, build: Callable[[Session], T]):
        self._build = build
        self._value: T | None = None
        self._lock = threading.Lock()

    def get(self, session: Session) -> T:
        with self._lock:
            if self._value is None:
                self._value = self._build(session)
            return self._value

    def reset(self) -> None:
        with self._lock:
            self._value = None


def _departments(session: Session) -> DepartmentTree:
    return DepartmentTree(list_departments(session))


def _triage(session: Session) -> Triage:
    return Triage(_departments(session), past_dispatches(session))


def _knowledge(session: Session) -> KnowledgeIndex:
    return KnowledgeIndex(all_entries(session))


@dataclass
class SearchIndexes:
    departments: Lazy[DepartmentTree] = field(default_factory=lambda: Lazy(_departments))
    triage: Lazy[Triage] = field(default_factory=lambda: Lazy(_triage))
    knowledge: Lazy[KnowledgeIndex] = field(default_factory=lambda: Lazy(_knowledge))

    def departments_changed(self) -> None:
        self.departments.reset()
        self.triage.reset()
