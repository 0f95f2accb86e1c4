"""A transfer, three-way call or 110 handoff as a small explicit state machine: what the agent's
desktop shows while it happens and what the ticket records afterwards."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from enum import StrEnum


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
        changes: dict = {"state": state}
        if state is TransferState.ANSWERED:
            changes["answered_at"] = at
        if state in FINISHED:
            changes["ended_at"] = at
            changes["reason"] = reason
        return dataclasses.replace(self, **changes)

    def view(self) -> dict:
        return {
            "call_id": self.call_id, "kind": str(self.kind), "target": self.target, "state": str(self.state),
            "answered": self.answered_at is not None, "reason": self.reason or None,
        }
