"""Transfer following replayed on AMI event traces recorded from the real Asterisk (tests/data/
ami-traces/, recorded by tests/integration/ami_traces.py from tests/integration/test_call_control.py):
each trace goes through the queue mirror and domain.transfer_following exactly as call control's
event follower feeds them, with what call control itself did replayed from the trace's markers."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from domain.agents import CallMode, QueueBoard
from domain.transfer_following import (
    Action,
    AgentDropsAfterOverlap,
    Announce,
    BackWithCaller,
    ConsultRinging,
    Followed,
    JoinAgentToRoom,
    PendingOriginate,
    TransfersInProgress,
    advance,
    follow_dial,
    follow_dialplan_report,
    follow_originate,
)
from domain.transfers import Transfer, TransferKind, TransferState

TRACES = Path(__file__).resolve().parents[1] / "data" / "ami-traces"


@dataclass
class Replay:
    board: QueueBoard = field(default_factory=lambda: QueueBoard(10))
    progress: TransfersInProgress = field(default_factory=TransfersInProgress)
    announced: list[tuple[str, str]] = field(default_factory=list)  # (state, reason)
    messages: list[str] = field(default_factory=list)
    actions: list[str] = field(default_factory=list)  # what call control was asked to do on Asterisk

    def apply(self, call_id: str, followed: Followed) -> None:
        if followed.transfer is not None:
            self.progress.transfers[call_id] = followed.transfer
        for action in followed.actions:
            self.carry_out(call_id, action)

    def carry_out(self, call_id: str, action: Action) -> None:
        if isinstance(action, Announce):
            self.announced.append((str(action.transfer.state), action.transfer.reason))
            if action.message:
                self.messages.append(action.message)
        elif isinstance(action, ConsultRinging):
            self.board.consult_ringing(call_id, action.channel)
        elif isinstance(action, BackWithCaller):
            self.board.back_with_caller(call_id)
            self.actions.append(f"back with caller: {self.board.calls[call_id].mode}")
        elif isinstance(action, JoinAgentToRoom):
            self.board.set_mode(call_id, CallMode.CONFERENCE)
            self.actions.append("join agent to room")
        elif isinstance(action, AgentDropsAfterOverlap):
            self.actions.append("agent drops after overlap")


def replay(name: str) -> Replay:
    run = Replay()
    lines = (TRACES / f"{name}.jsonl").read_text(encoding="utf-8").splitlines()
    for number, line in enumerate(lines):
        entry = json.loads(line)
        now = float(number)  # the traces' order is what counts, not their times
        kind = entry["Event"]
        if kind == "TraceTransferStarted":
            transfer = Transfer(entry["CallId"], TransferKind(entry["Kind"]), entry["Target"], entry["User"], now)
            run.progress.transfers[transfer.call_id] = transfer
        elif kind == "TraceOriginating":
            run.progress.originates[entry["ActionID"]] = PendingOriginate(entry["CallId"], entry["Room"])
        elif kind == "TraceStep":
            current = run.progress.transfers.get(entry["CallId"])
            run.apply(entry["CallId"], advance(current, TransferState(entry["State"]), now, entry["Reason"]))
        elif kind == "TraceBoard":
            args: list = entry["Args"]
            if entry["Change"] == "set_mode":
                args = [args[0], CallMode(args[1])]
            getattr(run.board, entry["Change"])(*args)
        else:
            run.board.feed(entry, now)
            if (found := run.progress.follow(entry, run.board, now)) is not None:
                run.apply(*found)
    return run


@pytest.mark.parametrize(
    ("trace", "states"),
    [
        ("blind-to-department", ["ringing", "answered", "completed"]),
        ("blind-to-queue", ["completed"]),
        ("attended-completed", ["ringing", "answered", "completed"]),
        ("attended-cancelled", ["ringing", "answered", "cancelled"]),
        ("three-way-call", ["ringing", "answered", "completed"]),
        ("direct-handoff-answered", ["ringing", "answered", "completed"]),
    ],
)
def test_a_transfer_that_goes_through(trace: str, states: list[str]) -> None:
    run = replay(trace)
    assert [state for state, _ in run.announced] == states
    assert run.messages == []


def test_an_attended_transfer_to_a_busy_phone_fails_and_the_agent_is_back_with_the_caller() -> None:
    run = replay("attended-busy")
    assert run.announced[-1] == ("failed", "BUSY")
    assert run.messages == ["the target did not answer (BUSY); you are back with the caller"]
    assert run.actions == ["back with caller: talking"]


def test_an_answered_110_handoff_joins_the_agent_who_then_drops() -> None:
    run = replay("handoff-answered")
    assert [state for state, _ in run.announced] == ["ringing", "answered", "completed"]
    assert run.actions == ["join agent to room", "agent drops after overlap"]


def test_an_unanswered_110_handoff_brings_the_agent_back_into_the_room() -> None:
    run = replay("handoff-unanswered")
    assert [state for state, _ in run.announced] == ["ringing", "failed"]
    assert run.actions == ["join agent to room"]
    assert len(run.messages) == 1 and "you are back with the caller" in run.messages[0]


# The pure functions on their own, for the cases no trace shows.

BLIND = Transfer("1.1", TransferKind.BLIND, "department:D001", "agent-a", 0.0)


def test_a_finished_transfer_is_not_moved_by_later_events() -> None:
    failed = BLIND.to(TransferState.FAILED, 1.0, "BUSY")
    followed = follow_dial(failed, {"Event": "DialEnd", "DialStatus": "ANSWER"}, None, 2.0)
    assert followed == Followed(failed, ())


def test_a_blind_transfer_that_rings_out_is_offered_back() -> None:
    event = {"Event": "UserEvent", "UserEvent": "HotlineTransferFailed", "CallId": "1.1", "DialStatus": "NOANSWER"}
    followed = follow_dialplan_report(BLIND.to(TransferState.RINGING, 1.0), event, 2.0)
    assert followed.transfer is not None and (followed.transfer.state, followed.transfer.reason) == (
        "failed",
        "NOANSWER",
    )
    assert followed.actions == (
        Announce(followed.transfer, "the target did not answer (NOANSWER); the caller is offered back to you"),
    )


def test_an_unanswered_three_way_call_leaves_the_caller_with_the_agent() -> None:
    conference = Transfer("1.1", TransferKind.CONFERENCE, "department:D001", "agent-a", 0.0)
    followed = follow_originate(conference, {"Event": "OriginateResponse", "Response": "Failure", "Reason": "5"}, 1.0)
    assert followed.transfer is not None and followed.transfer.reason == "BUSY"
    assert followed.actions == (
        Announce(followed.transfer, "department:D001 did not answer (BUSY); the caller is still with you"),
    )


def test_events_about_no_transfer_change_nothing() -> None:
    progress = TransfersInProgress()
    assert progress.follow({"Event": "DialBegin", "Channel": "PJSIP/8001-1"}, QueueBoard(10), 0.0) is None
    assert progress.follow({"Event": "OriginateResponse", "ActionID": "x"}, QueueBoard(10), 0.0) is None
