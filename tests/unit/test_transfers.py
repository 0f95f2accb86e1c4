"""The transfer state machine, and a 110 handoff recorded on its ticket."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from domain.tickets import (
    Action,
    Actor,
    Channel,
    Command,
    EmergencyHandoff,
    InvalidCommand,
    RequestType,
    Role,
    Ticket,
    TicketStatus,
    apply,
)
from domain.transfers import IllegalTransferStep, Transfer, TransferKind, TransferState

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def transfer(kind: TransferKind = TransferKind.ATTENDED) -> Transfer:
    return Transfer("1.1", kind, "department:D001", "wang", 100.0)


def test_ringing_answered_completed() -> None:
    t = transfer().to(TransferState.RINGING, 101.0).to(TransferState.ANSWERED, 105.0).to(TransferState.COMPLETED, 110.0)
    assert (t.state, t.answered_at, t.ended_at, t.finished) == (TransferState.COMPLETED, 105.0, 110.0, True)
    assert t.view()["answered"] is True


def test_failure_keeps_its_reason() -> None:
    t = transfer().to(TransferState.RINGING, 101.0).to(TransferState.FAILED, 107.0, "BUSY")
    assert (t.reason, t.answered_at, t.view()["answered"]) == ("BUSY", None, False)


def test_a_finished_transfer_cannot_move_on() -> None:
    done = transfer().to(TransferState.CANCELLED, 101.0, "cancelled by the agent")
    with pytest.raises(IllegalTransferStep, match="cancelled to answered"):
        done.to(TransferState.ANSWERED, 102.0)
    assert done.to(TransferState.CANCELLED, 103.0) is done  # repeating a state changes nothing


def ticket(status: TicketStatus = TicketStatus.DRAFT) -> Ticket:
    return Ticket("202611200001", RequestType.HELP, Channel.PHONE, "有人打架", NOW, status=status, urgent=True)


@pytest.mark.parametrize("status", [TicketStatus.DRAFT, TicketStatus.ACCEPTED, TicketStatus.DISPATCHED])
def test_handoff_recorded_on_an_open_ticket_with_who_when_and_answer(status: TicketStatus) -> None:
    handoff = EmergencyHandoff("110", "wang", NOW, direct=False, answered_at=NOW)
    changed, audit = apply(
        ticket(status), Command(Action.RECORD_HANDOFF, handoff=handoff), Actor("wang", Role.AGENT), NOW
    )
    assert changed.handoffs == (handoff,) and changed.status is status
    assert (audit.action, audit.actor_id, audit.note) == (
        Action.RECORD_HANDOFF,
        "wang",
        "110 answered (three-way call)",
    )


def test_unanswered_handoff_note_and_missing_data() -> None:
    handoff = EmergencyHandoff("119", "wang", NOW, direct=True, failure="BUSY")
    _, audit = apply(ticket(), Command(Action.RECORD_HANDOFF, handoff=handoff), Actor("wang", Role.AGENT), NOW)
    assert audit.note == "119 did not answer (BUSY); the caller stayed with the centre"
    with pytest.raises(InvalidCommand, match="handoff is required"):
        apply(ticket(), Command(Action.RECORD_HANDOFF), Actor("wang", Role.AGENT), NOW)
