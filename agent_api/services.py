"""In-memory search structures the API builds from the database on first use and keeps current as
admins change the data. One API process owns them; several processes would each hold their own."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, TypeVar

from sqlalchemy.orm import Session

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
