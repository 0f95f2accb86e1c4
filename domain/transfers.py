"""A transfer, three-way call or 110 handoff as a small explicit state machine: what the agent's
desktop shows while it happens and what the ticket records afterwards."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class TransferKind(StrEnum):
    BLIND = "blind"
    ATTENDED = "attended"
    CONFERENCE = "conference"  # 三方通话
    HANDOFF = "handoff"  # 110/119/120 brought into a three-way call, then the agent drops
    DIRECT_HANDOFF = "direct_handoff"  # 110/119/120 by blind transfer


class TransferState(StrEnum):
    STARTING = "starting"
    RINGING = "ringing"
    ANSWERED = "answered"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    FAILED = "failed"


FINISHED = frozenset({TransferState.COMPLETED, TransferState.CANCELLED, TransferState.FAILED})
_NEXT: dict[TransferState, frozenset[TransferState]] = {
    TransferState.STARTING: frozenset({TransferState.RINGING, TransferState.ANSWERED, *FINISHED}),
    TransferState.RINGING: frozenset({TransferState.ANSWERED, *FINISHED}),
    TransferState.ANSWERED: frozenset({TransferState.COMPLETED, TransferState.CANCELLED, TransferState.FAILED}),
}


class IllegalTransferStep(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Transfer:
    call_id: str
    kind: TransferKind
    target: str  # "department:D001", "agent:8002", "queue:hotline-business", "emergency:110"
    by_user: str
    started_at: float
    state: TransferState = TransferState.STARTING
    answered_at: float | None = None
    ended_at: float | None = None
    reason: str = ""  # why it failed: BUSY, NOANSWER, CHANUNAVAIL …
    ticket_number: str | None = None

    @property
    def finished(self) -> bool:
        return self.state in FINISHED

    def to(self, state: TransferState, at: float, reason: str = "") -> Transfer:
        """The transfer in its next state; repeating the current state changes nothing."""
        if state == self.state:
            return self
        if state not in _NEXT.get(self.state, frozenset()):
            raise IllegalTransferStep(f"a {self.kind} transfer cannot go from {self.state} to {state}")
        answered_at = at if state is TransferState.ANSWERED else self.answered_at
        if state in FINISHED:
            return dataclasses.replace(self, state=state, answered_at=answered_at, ended_at=at, reason=reason)
        return dataclasses.replace(self, state=state, answered_at=answered_at)

    def view(self) -> dict[str, Any]:
        return {
            "call_id": self.call_id,
            "kind": str(self.kind),
            "target": self.target,
            "state": str(self.state),
            "answered": self.answered_at is not None,
            "reason": self.reason or None,
        }
