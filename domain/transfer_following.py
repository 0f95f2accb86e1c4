"""Following a transfer, three-way call or 110 handoff from Asterisk's events, as a pure function:
(the transfer, an event about its call) -> (the transfer after it, what call control must do).

Call control (telephony/) finds which call an event is about and carries out the actions in order;
nothing here talks to Asterisk or reads a clock. tests/unit/test_transfer_following.py replays AMI
event traces recorded from the real Asterisk through it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from domain.agents import QueueBoard
from domain.dialplan_names import UserEvent
from domain.transfers import Transfer, TransferKind, TransferState

Event = Mapping[str, str]

# OriginateResponse's Reason (Asterisk's AST_CONTROL_* of the rung party's end) in dial-status words
_ORIGINATE_REASONS = {"1": "NOANSWER", "3": "NOANSWER", "5": "BUSY", "8": "CONGESTION"}


@dataclass(frozen=True)
class Announce:
    """The transfer moved to a new state: tell the agent (with `message` when something failed)."""

    transfer: Transfer
    message: str = ""


@dataclass(frozen=True)
class ConsultRinging:
    """The consulted party's channel, to bridge the caller with once it answers."""

    channel: str


@dataclass(frozen=True)
class BackWithCaller:
    """The consultation is over without a transfer: the agent is talking to the caller again."""


@dataclass(frozen=True)
class JoinAgentToRoom:
    """The agent, on hold while 110 rang, joins the caller's ConfBridge room."""


@dataclass(frozen=True)
class AgentDropsAfterOverlap:
    """110 answered: the agent leaves the three-way call after a short overlap."""


Action = Announce | ConsultRinging | BackWithCaller | JoinAgentToRoom | AgentDropsAfterOverlap


@dataclass(frozen=True)
class Followed:
    transfer: Transfer | None
    actions: tuple[Action, ...] = ()


class _Steps:
    """The transfer as it advances through one event, and the actions that makes."""

    def __init__(self, transfer: Transfer | None, now: float):
        self.transfer = transfer
        self.now = now
        self.actions: list[Action] = []

    def advance(self, state: TransferState, reason: str = "", message: str = "") -> bool:
        """Moves the transfer on unless it is over or already there; says whether it moved."""
        if self.transfer is None or self.transfer.finished or self.transfer.state == state:
            return False
        self.transfer = self.transfer.to(state, self.now, reason)
        self.actions.append(Announce(self.transfer, message))
        return True

    def done(self) -> Followed:
        return Followed(self.transfer, tuple(self.actions))


def advance(
    transfer: Transfer | None, state: TransferState, now: float, reason: str = "", message: str = ""
) -> Followed:
    """One step that call control takes itself (a queue transfer done, a consultation completed)."""
    steps = _Steps(transfer, now)
    steps.advance(state, reason, message)
    return steps.done()


def follow_dial(transfer: Transfer | None, event: Event, agent_channel: str | None, now: float) -> Followed:
    """DialBegin/DialEnd on the call's channels: the caller being blind-transferred (or handed to
    110 directly), or the agent dialling the party they consult."""
    steps = _Steps(transfer, now)
    if transfer is None:
        return steps.done()
    if transfer.kind is TransferKind.ATTENDED and event.get("Channel") == agent_channel:
        if event.get("DestChannel"):
            steps.actions.append(ConsultRinging(event["DestChannel"]))
    elif transfer.kind not in (TransferKind.BLIND, TransferKind.DIRECT_HANDOFF):
        return steps.done()
    if event.get("Event") == "DialBegin":
        steps.advance(TransferState.RINGING)
    elif (
        event.get("DialStatus") == "ANSWER"
        and steps.advance(TransferState.ANSWERED)
        and transfer.kind is not TransferKind.ATTENDED
    ):
        steps.advance(TransferState.COMPLETED)
    return steps.done()


def follow_dialplan_report(transfer: Transfer | None, event: Event, now: float) -> Followed:
    """Our dialplan's UserEvents: HotlineTransferFailed (a blind transfer's target did not answer;
    the caller is offered back to the agent) and HotlineConsultEnded (the consulted party is gone)."""
    steps = _Steps(transfer, now)
    status = event.get("DialStatus", "")
    if event.get("UserEvent") == UserEvent.TRANSFER_FAILED:
        steps.advance(
            TransferState.FAILED,
            status,
            f"the target did not answer ({status or 'no answer'}); the caller is offered back to you",
        )
        return steps.done()
    if event.get("Completed") == "1":  # the agent completed the transfer: the caller is with the target
        return steps.done()
    steps.actions.append(BackWithCaller())
    if transfer is not None and transfer.state is not TransferState.CANCELLED:
        if transfer.answered_at is None:
            steps.advance(
                TransferState.FAILED,
                status,
                f"the target did not answer ({status or 'no answer'}); you are back with the caller",
            )
        else:
            steps.advance(TransferState.CANCELLED, "target hung up")
    return steps.done()


def follow_originate(transfer: Transfer | None, event: Event, now: float) -> Followed:
    """OriginateResponse of the party rung into a call's room (three-way call or 110 handoff)."""
    steps = _Steps(transfer, now)
    if transfer is None:
        return steps.done()
    if event.get("Response") == "Success":
        steps.advance(TransferState.ANSWERED)
        if transfer.kind is TransferKind.CONFERENCE:
            steps.advance(TransferState.COMPLETED)
        elif transfer.kind is TransferKind.HANDOFF:
            steps.actions += [JoinAgentToRoom(), AgentDropsAfterOverlap()]
        return steps.done()
    reason = _ORIGINATE_REASONS.get(event.get("Reason", ""), "FAILED")
    if transfer.kind is TransferKind.HANDOFF:
        steps.actions.append(JoinAgentToRoom())
        message = f"{transfer.target} did not answer ({reason}); you are back with the caller"
    else:
        message = f"{transfer.target} did not answer ({reason}); the caller is still with you"
    steps.advance(TransferState.FAILED, reason, message)
    return steps.done()


@dataclass(frozen=True)
class PendingOriginate:
    """An Originate in flight: the call whose room the rung party joins."""

    call_id: str
    room: str


@dataclass
class TransfersInProgress:
    """The latest transfer of each call, and the Originates ringing a party into a call's room."""

    transfers: dict[str, Transfer] = field(default_factory=dict)  # by call id
    originates: dict[str, PendingOriginate] = field(default_factory=dict)  # by ActionID

    def follow(self, event: Event, board: QueueBoard, now: float) -> tuple[str, Followed] | None:
        """Which call's transfer an event is about, and what follows from it; None if none."""
        name = event.get("Event", "")
        if name == "OriginateResponse":
            pending = self.originates.pop(event.get("ActionID", ""), None)
            if pending is None or pending.call_id not in board.calls:
                return None
            return pending.call_id, follow_originate(self.transfers.get(pending.call_id), event, now)
        if name in ("DialBegin", "DialEnd"):
            call = board.call_on_channel(event.get("Channel", ""))
            if call is None or call.call_id not in self.transfers:
                return None
            return call.call_id, follow_dial(self.transfers[call.call_id], event, call.agent_channel, now)
        if name == "UserEvent" and event.get("UserEvent") in (UserEvent.TRANSFER_FAILED, UserEvent.CONSULT_ENDED):
            call_id = event.get("CallId", "")
            if event.get("UserEvent") == UserEvent.CONSULT_ENDED and call_id not in board.calls:
                return None
            return call_id, follow_dialplan_report(self.transfers.get(call_id), event, now)
        return None

    def ringing_into(self, room: str) -> bool:
        return any(p.room == room for p in self.originates.values())
