"""Budgets of attempts over a sliding window, in memory per API process: sign-ins (per username at
one address, per address, and overall) and public progress lookups (misses per address). A spent
budget is refused with TooMany (429 with Retry-After) before any password is checked or row read."""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from domain.errors import TooMany

Clock = Callable[[], float]
OVERALL = ""  # the key of the overall budget
KNOWN_FOR_SECONDS = 30 * 24 * 3600.0  # how long a signed-in username at an address skips the overall budget
PRUNE_KNOWN_ABOVE = 10_000


class Window:
    """Events per key within the last `seconds`; a key with `limit` of them waits. Not locked: its
    owner locks. Only keys with recent events are kept, so memory is bounded by what is failing now."""

    def __init__(self, limit: int, seconds: float, clock: Clock) -> None:
        self._limit = limit
        self._seconds = seconds
        self._clock = clock
        self._events: dict[str, deque[float]] = {}

    def _recent(self, key: str) -> deque[float]:
        events = self._events.get(key, deque())
        while events and self._clock() - events[0] > self._seconds:
            events.popleft()
        if not events:
            self._events.pop(key, None)
        return events

    def wait(self, key: str) -> float:
        """Seconds until `key` may have another event; 0 when it may now."""
        events = self._recent(key)
        if len(events) < self._limit:
            return 0.0
        return max(0.0, self._seconds - (self._clock() - events[-self._limit]))

    def add(self, key: str, at: float) -> None:
        events = self._recent(key)
        events.append(at)
        self._events[key] = events

    def withdraw(self, key: str, at: float) -> None:
        """Takes back one event recorded at `at` (if still in the window)."""
        events = self._events.get(key)
        if events is not None and at in events:
            events.remove(at)
        self._recent(key)

    def clear(self, key: str) -> None:
        self._events.pop(key, None)

    def tracked(self) -> int:
        return sum(1 for key in list(self._events) if self._recent(key))


def too_many(what: str, wait: float, code: str) -> TooMany:
    seconds = max(1, math.ceil(wait))
    return TooMany(f"too many {what}: try again in {seconds} s", seconds, code=code)


@dataclass(frozen=True)
class SignInLimits:
    """Failed sign-ins allowed within `window_seconds`: for one username from one address (guessing
    a password), from one address over any usernames (trying many accounts), and overall (a password
    sprayed from many addresses). None of them lets anyone lock out a user signing in elsewhere."""

    per_user_at_address: int = 5
    per_address: int = 20
    overall: int = 60
    window_seconds: float = 300.0


@dataclass(frozen=True)
class Attempt:
    username: str
    address: str
    at: float


class SignInThrottle:
    """An attempt counts as failed from the moment it is admitted (so concurrent attempts cannot slip
    past a budget while their passwords are checked) until it succeeds. A username that signed in
    from an address recently skips the overall budget there: a flood from elsewhere does not lock out
    the desks people already use."""

    def __init__(self, limits: SignInLimits = SignInLimits(), clock: Clock = time.monotonic) -> None:
        self._clock = clock
        self._pairs = Window(limits.per_user_at_address, limits.window_seconds, clock)
        self._addresses = Window(limits.per_address, limits.window_seconds, clock)
        self._overall = Window(limits.overall, limits.window_seconds, clock)
        self._known: dict[str, float] = {}  # pair → when it last signed in
        self._lock = threading.Lock()

    @staticmethod
    def _pair(username: str, address: str) -> str:
        return f"{address}\x00{username}"

    def admit(self, username: str, address: str) -> Attempt:
        """Records an attempt, or raises TooMany when a budget it draws on is spent."""
        pair = self._pair(username, address)
        with self._lock:
            now = self._clock()
            known = now - self._known.get(pair, -math.inf) < KNOWN_FOR_SECONDS
            wait = max(
                self._pairs.wait(pair), self._addresses.wait(address), 0.0 if known else self._overall.wait(OVERALL)
            )
            if wait:
                raise too_many("failed sign-ins", wait, "sign_ins_throttled")
            self._pairs.add(pair, now)
            self._addresses.add(address, now)
            self._overall.add(OVERALL, now)
        return Attempt(username, address, now)

    def succeeded(self, attempt: Attempt) -> None:
        pair = self._pair(attempt.username, attempt.address)
        with self._lock:
            self._pairs.clear(pair)
            self._addresses.withdraw(attempt.address, attempt.at)
            self._overall.withdraw(OVERALL, attempt.at)
            now = self._clock()
            self._known[pair] = now
            if len(self._known) > PRUNE_KNOWN_ABOVE:
                self._known = {p: at for p, at in self._known.items() if now - at < KNOWN_FOR_SECONDS}

    def tracked(self) -> int:
        """How many usernames at addresses have failures in the window."""
        with self._lock:
            return self._pairs.tracked()


class MissThrottle:
    """Refuses a client's lookups after `limit` misses within `window_seconds` (guessing numbers)."""

    def __init__(self, limit: int = 10, window_seconds: float = 600.0, clock: Clock = time.monotonic) -> None:
        self._clock = clock
        self._misses = Window(limit, window_seconds, clock)
        self._lock = threading.Lock()

    def check(self, address: str) -> None:
        with self._lock:
            wait = self._misses.wait(address)
        if wait:
            raise too_many("lookups of tickets not found", wait, "lookups_throttled")

    def missed(self, address: str) -> None:
        with self._lock:
            self._misses.add(address, self._clock())
