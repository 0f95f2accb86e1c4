"""What call control is configured with and what it needs from the rest of the system."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from domain.transfers import Transfer

SUPERVISORS = "supervisors"  # the audience of wallboard and telephony-state pushes

Publish = Callable[[str, dict], None]  # audience ("user:<name>" or SUPERVISORS), message


@dataclass(frozen=True)
class CtiConfig:
    agent_extensions: frozenset[str]
    skill_queues: Mapping[str, str]
    queues: frozenset[str]
    emergency_numbers: frozenset[str]
    default_skills: Mapping[str, int]
    ring_seconds: int = 20
    wrapup_seconds: int = 10
    handoff_overlap_seconds: float = 3.0
    wallboard_interval_seconds: float = 2.0


@dataclass(frozen=True)
class Target:
    kind: str  # department, agent, queue, emergency
    id: str

    def __str__(self) -> str:
        return f"{self.kind}:{self.id}"


@dataclass
class CtiHooks:
    """What call control needs from the rest of the system, as plain callables run in a worker
    thread (but live_draft): the department directory, what the screen-pop shows about a caller
    and the draft made from their speech so far, where a 110 handoff is written on its ticket, and
    today's answered-call counts."""

    department_phone: Callable[[str], str | None]
    caller_context: Callable[[str, str], dict[str, Any]] = lambda caller, call_id: {}
    record_handoff: Callable[[Transfer], None] = lambda transfer: None
    answered_today: Callable[[], tuple[int, int]] = lambda: (0, 0)
    ticket_exists: Callable[[str], bool | None] = lambda number: False  # None: cannot tell now (database down)
    live_draft: Callable[[str], dict[str, Any] | None] = lambda call_id: None  # run in the event loop
