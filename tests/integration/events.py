"""A log of every AMI event the tests' Asterisk sent, with waits for the ones a test expects."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping

Event = Mapping[str, str]


class EventLog:
    def __init__(self) -> None:
        self.events: list[Event] = []
        self._changed = asyncio.Condition()

    async def add(self, event: Event) -> None:
        async with self._changed:
            self.events.append(event)
            self._changed.notify_all()

    def mark(self) -> int:
        """Position to search from, so a test only sees events that came after it started."""
        return len(self.events)

    async def wait_for(self, matches: Callable[[Event], bool], timeout: float, since: int = 0) -> Event:
        async def found() -> Event:
            seen = since
            async with self._changed:
                while True:
                    for event in self.events[seen:]:
                        if matches(event):
                            return event
                    seen = len(self.events)
                    await self._changed.wait()

        try:
            return await asyncio.wait_for(found(), timeout)
        except TimeoutError:
            seen = [
                f"{e.get('Event')}({e.get('UserEvent') or e.get('Channel', '')})"
                for e in self.events[since:][-30:]
                if e.get("Event") not in ("Newstate", "NewConnectedLine")
            ]
            raise AssertionError(f"no matching AMI event within {timeout} s; the last ones: {seen}") from None

    def matching(self, matches: Callable[[Event], bool], since: int = 0) -> list[Event]:
        return [event for event in self.events[since:] if matches(event)]


def is_event(name: str, **headers: str) -> Callable[[Event], bool]:
    return lambda e: e.get("Event") == name and all(e.get(k) == v for k, v in headers.items())
