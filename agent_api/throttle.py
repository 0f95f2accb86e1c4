"""Login throttling: after too many failed sign-ins for one username, further attempts are refused
for a while, so passwords cannot be guessed at speed. In memory, per API process."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable


class LoginThrottle:
    def __init__(self, max_failures: int = 5, window_seconds: float = 300.0, clock: Callable[[], float] = time.monotonic):
        self._max = max_failures
        self._window = window_seconds
        self._clock = clock
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str) -> deque[float]:
        """The key's failures within the window; a key with none is not kept (memory stays bounded
        by the usernames failing now, not every username ever tried)."""
        failures = self._failures.get(key, deque())
        while failures and self._clock() - failures[0] > self._window:
            failures.popleft()
        if not failures:
            self._failures.pop(key, None)
        return failures

    def retry_after(self, key: str) -> float:
        """Seconds until `key` may try again; 0 when it may now."""
        with self._lock:
            failures = self._recent(key)
            if len(failures) < self._max:
                return 0.0
            return max(0.0, self._window - (self._clock() - failures[0]))

    def failed(self, key: str) -> None:
        with self._lock:
            failures = self._recent(key)
            failures.append(self._clock())
            self._failures[key] = failures

    def succeeded(self, key: str) -> None:
        with self._lock:
            self._failures.pop(key, None)

    def tracked(self) -> int:
        """How many keys have failures in the window."""
        with self._lock:
            return sum(1 for key in list(self._failures) if self._recent(key))
