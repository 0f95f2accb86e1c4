"""Agents, waiting callers and live calls as Asterisk's app_queue reports them over AMI: a pure fold
of events into state for agent desktops and the supervisors' wallboard. Asterisk is the truth; this
is its mirror, rebuilt from QueueStatus whenever the AMI connection (re)starts."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from domain.dialplan_names import UserEvent

Event = Mapping[str, str]

ANSWERED_WITHIN_SECONDS = 15  # the national service-level figure: answered within 15 s


class Presence(StrEnum):
    AVAILABLE = "available"
    RINGING = "ringing"
    ON_CALL = "on_call"
    WRAP_UP = "wrap_up"
    PAUSED = "paused"
    UNAVAILABLE = "unavailable"  # logged in, but the softphone is not registered


class CallMode(StrEnum):
    QUEUED = "queued"
    RINGING = "ringing"
    TALKING = "talking"
    HELD = "held"
    CONSULTING = "consulting"
    CONFERENCE = "conference"
    HANDOFF = "handoff"  # 110/119/120 being brought in


_UNAVAILABLE_DEVICE = {"4", "5"}  # AST_DEVICE_INVALID, AST_DEVICE_UNAVAILABLE
_RINGING_DEVICE = {"6", "7"}
_BUSY_DEVICE = {"2", "3", "8"}


def extension_of(interface: str) -> str:
    """'PJSIP/8001' -> '8001'."""
    return interface.partition("/")[2] or interface


@dataclass
class Agent:
    extension: str
    user: str  # the queue member name: the agent's username
    queues: dict[str, int] = field(default_factory=dict)  # queue -> penalty
    paused: bool = False
    pause_reason: str = ""
    device: str = "0"
    last_call_at: float | None = None  # epoch seconds, from app_queue's LastCall
    call_id: str | None = None  # the caller's uniqueid while ringing or connected

    def presence(self, now: float, wrapup_seconds: float) -> Presence:
        if self.paused:
            return Presence.PAUSED
        if self.device in _UNAVAILABLE_DEVICE:
            return Presence.UNAVAILABLE
        if self.device in _RINGING_DEVICE:
            return Presence.RINGING
        if self.call_id is not None or self.device in _BUSY_DEVICE:
            return Presence.ON_CALL
        if self.last_call_at is not None and now < self.last_call_at + wrapup_seconds:
            return Presence.WRAP_UP
        return Presence.AVAILABLE

    def view(self, now: float, wrapup_seconds: float) -> dict[str, Any]:
        presence = self.presence(now, wrapup_seconds)
        wrapup_left = None
        if presence is Presence.WRAP_UP and self.last_call_at is not None:
            wrapup_left = round(self.last_call_at + wrapup_seconds - now, 1)
        return {
            "extension": self.extension,
            "user": self.user,
            "queues": dict(self.queues),
            "presence": str(presence),
            "pause_reason": self.pause_reason if self.paused else None,
            "call_id": self.call_id,
            "wrap_up_seconds_left": wrapup_left,
        }


@dataclass
class LiveCall:
    """A caller's call from joining a queue to hangup; the agent API's handle for call control."""

    call_id: str  # the caller channel's uniqueid
    caller_channel: str
    caller: str
    queue: str
    joined_at: float
    ivr_path: str | None = None
    mode: CallMode = CallMode.QUEUED
    agent_extension: str | None = None
    agent_channel: str | None = None
    answered_at: float | None = None
    room: str | None = None  # the ConfBridge room once the call is a conference
    consult_channel: str | None = None  # the target's channel during an attended transfer


@dataclass(frozen=True)
class Change:
    """What an event changed, for the agent API to push: `kind` is one of agent, offered,
    connected, left (the agent's leg of a call that goes on), ended, waiting."""

    kind: str
    extension: str | None = None
    call_id: str | None = None


class QueueBoard:
    def __init__(self, wrapup_seconds: float):
        self.wrapup_seconds = wrapup_seconds
        self.agents: dict[str, Agent] = {}
        self.calls: dict[str, LiveCall] = {}
        self._paths: dict[str, str] = {}  # IVR path by uniqueid, seen before the caller queues
        self.answered = 0
        self.answered_in_time = 0

    # --- rebuilding from QueueStatus --------------------------------------------------------

    def reset(self, status: Iterable[Event], now: float) -> None:
        """Replaces agents and waiting callers with what QueueStatus reported. Calls already
        connected to an agent keep their state (QueueStatus does not list them)."""
        agents: dict[str, Agent] = {}
        waiting: dict[str, LiveCall] = {}
        for event in status:
            name = event.get("Event")
            if name == "QueueMember" and event.get("Membership") != "static":
                ext = extension_of(event.get("Location", ""))
                agent = agents.get(ext) or Agent(ext, event.get("Name", ext))
                agent.queues[event.get("Queue", "")] = _int(event.get("Penalty"))
                agent.paused = event.get("Paused") == "1"
                agent.pause_reason = event.get("PausedReason", "")
                agent.device = event.get("Status", "0")
                agent.last_call_at = _epoch(event.get("LastCall"))
                previous = self.agents.get(ext)
                if previous is not None and previous.call_id in self.calls:
                    agent.call_id = previous.call_id
                agents[ext] = agent
            elif name == "QueueEntry":
                uniqueid = event.get("Uniqueid", "")
                waiting[uniqueid] = LiveCall(
                    uniqueid,
                    event.get("Channel", ""),
                    event.get("CallerIDNum", ""),
                    event.get("Queue", ""),
                    now - _int(event.get("Wait")),
                    self._paths.get(uniqueid),
                )
        connected = {cid: c for cid, c in self.calls.items() if c.mode is not CallMode.QUEUED}
        self.agents = agents
        self.calls = {**waiting, **connected}

    # --- events -----------------------------------------------------------------------------

    def feed(self, event: Event, now: float) -> list[Change]:
        name = event.get("Event", "")
        if name == "UserEvent" and event.get("UserEvent") == UserEvent.ROUTE:
            self._paths[event.get("Uniqueid", "")] = event.get("Path", "")
            return []
        handler = _HANDLERS.get(name)
        return handler(self, event, now) if handler else []

    def _member(self, event: Event, now: float) -> list[Change]:
        ext = extension_of(event.get("Interface", ""))
        agent = self.agents.get(ext)
        if agent is None:
            agent = self.agents[ext] = Agent(ext, event.get("MemberName", ext))
        agent.user = event.get("MemberName", agent.user)
        agent.queues[event.get("Queue", "")] = _int(event.get("Penalty"))
        agent.paused = event.get("Paused") == "1"
        agent.pause_reason = event.get("PausedReason", "")
        agent.device = event.get("Status", agent.device)
        agent.last_call_at = _epoch(event.get("LastCall")) or agent.last_call_at
        return [Change("agent", ext)]

    def _member_removed(self, event: Event, now: float) -> list[Change]:
        ext = extension_of(event.get("Interface", ""))
        agent = self.agents.get(ext)
        if agent is None:
            return []
        agent.queues.pop(event.get("Queue", ""), None)
        if not agent.queues:
            del self.agents[ext]
        return [Change("agent", ext)]

    def _caller_join(self, event: Event, now: float) -> list[Change]:
        uniqueid = event.get("Uniqueid", "")
        call = self.calls.get(uniqueid)
        if call is None:
            call = self.calls[uniqueid] = LiveCall(
                uniqueid,
                event.get("Channel", ""),
                event.get("CallerIDNum", ""),
                event.get("Queue", ""),
                now,
                self._paths.get(uniqueid),
            )
        changes = [Change("waiting", call_id=uniqueid)]
        if call.mode is not CallMode.QUEUED:  # back in a queue after a transfer, or its agent left
            agent = self.agents.get(call.agent_extension or "")
            if agent is not None and agent.call_id == uniqueid:
                agent.call_id, agent.last_call_at = None, now
                changes.append(Change("left", agent.extension, uniqueid))
            call.queue, call.joined_at, call.mode = event.get("Queue", call.queue), now, CallMode.QUEUED
            call.agent_extension = call.agent_channel = call.room = call.consult_channel = None
        return changes

    def _agent_called(self, event: Event, now: float) -> list[Change]:
        call = self.calls.get(event.get("Uniqueid", ""))
        ext = extension_of(event.get("Interface", ""))
        if call is None:
            return []
        call.mode = CallMode.RINGING
        if ext in self.agents:
            self.agents[ext].call_id = call.call_id
        return [Change("offered", ext, call.call_id)]

    def _ring_no_answer(self, event: Event, now: float) -> list[Change]:
        ext = extension_of(event.get("Interface", ""))
        call = self.calls.get(event.get("Uniqueid", ""))
        agent = self.agents.get(ext)
        if agent is not None and call is not None and agent.call_id == call.call_id:
            agent.call_id = None
        if call is not None and call.mode is CallMode.RINGING:
            call.mode = CallMode.QUEUED
        return [Change("agent", ext)]

    def _agent_connect(self, event: Event, now: float) -> list[Change]:
        call = self.calls.get(event.get("Uniqueid", ""))
        ext = extension_of(event.get("Interface", ""))
        if call is None:
            return []
        call.mode = CallMode.TALKING
        call.agent_extension = ext
        call.agent_channel = event.get("DestChannel")
        call.answered_at = now
        if ext in self.agents:
            self.agents[ext].call_id = call.call_id
        self.answered += 1
        if _int(event.get("HoldTime")) <= ANSWERED_WITHIN_SECONDS:
            self.answered_in_time += 1
        return [Change("connected", ext, call.call_id)]

    def _agent_complete(self, event: Event, now: float) -> list[Change]:
        """The queue's part of the call is over; the call itself may go on under call control."""
        ext = extension_of(event.get("Interface", ""))
        agent = self.agents.get(ext)
        if agent is not None:
            agent.last_call_at = now
        return [Change("agent", ext)]

    def _caller_left_queue(self, event: Event, now: float) -> list[Change]:
        return [Change("waiting", call_id=event.get("Uniqueid", ""))]

    def _hangup(self, event: Event, now: float) -> list[Change]:
        uniqueid = event.get("Uniqueid", "")
        self._paths.pop(uniqueid, None)
        changes: list[Change] = []
        call = self.calls.get(uniqueid)
        if call is not None:
            del self.calls[uniqueid]
            changes.append(Change("ended", call.agent_extension, uniqueid))
        else:  # an agent's channel: the agent may be free although the caller's call goes on
            for agent in self.agents.values():
                held = self.calls.get(agent.call_id or "")
                if held is not None and held.agent_channel == event.get("Channel"):
                    held.agent_extension = held.agent_channel = None
                    agent.call_id = None
                    agent.last_call_at = now
                    changes.append(Change("left", agent.extension, held.call_id))
        for agent in self.agents.values():
            if agent.call_id == uniqueid:
                agent.call_id = None
                agent.last_call_at = now
                changes.append(Change("agent", agent.extension))
        return changes

    # --- what call control does to a call ---------------------------------------------------
    # Call control changes the mirror only through these, in the event loop, so the mirror has
    # one writer; the agent API, the live drafts and the IVR's threads only read it.

    def set_mode(self, call_id: str, mode: CallMode) -> None:
        if (call := self.calls.get(call_id)) is not None:
            call.mode = mode

    def consult_ringing(self, call_id: str, channel: str) -> None:
        """The party an agent consults is being dialled on `channel`."""
        if (call := self.calls.get(call_id)) is not None:
            call.consult_channel = channel

    def back_with_caller(self, call_id: str) -> None:
        """A consultation ended without a transfer: agent and caller talk again."""
        if (call := self.calls.get(call_id)) is not None:
            call.mode, call.consult_channel = CallMode.TALKING, None

    def into_room(self, call_id: str, room: str) -> None:
        if (call := self.calls.get(call_id)) is not None:
            call.room, call.mode = room, CallMode.CONFERENCE

    def out_of_room(self, call_id: str) -> None:
        if (call := self.calls.get(call_id)) is not None:
            call.room = None

    def agent_leaves(self, call_id: str) -> None:
        """The agent's leg of a call that goes on without them (transfer completed, room left)."""
        call = self.calls.get(call_id)
        if call is None:
            return
        agent = self.agents.get(call.agent_extension or "")
        if agent is not None and agent.call_id == call_id:
            agent.call_id = None
        call.agent_extension = call.agent_channel = None

    def handed_over(self, call_id: str) -> None:
        """An attended transfer completed: the caller talks to the consulted party."""
        self.agent_leaves(call_id)
        self.set_mode(call_id, CallMode.TALKING)

    # --- views ------------------------------------------------------------------------------

    def call_on_channel(self, channel: str) -> LiveCall | None:
        return next((c for c in self.calls.values() if channel in (c.caller_channel, c.agent_channel)), None)

    def call_in_room(self, room: str) -> LiveCall | None:
        return next((c for c in self.calls.values() if c.room == room), None)

    def longest_wait(self, now: float) -> float:
        """The longest wait of a caller queued now, in seconds. Safe from other threads (the IVR's):
        the calls are copied in one step before they are read."""
        return max((now - c.joined_at for c in tuple(self.calls.values()) if c.mode is CallMode.QUEUED), default=0.0)

    def agent_for_user(self, user: str) -> Agent | None:
        return next((a for a in self.agents.values() if a.user == user), None)

    def waiting(self) -> list[LiveCall]:
        return [c for c in self.calls.values() if c.mode in (CallMode.QUEUED, CallMode.RINGING)]

    def wallboard(self, now: float) -> dict[str, Any]:
        queues: dict[str, dict[str, Any]] = {}
        for call in self.waiting():
            q = queues.setdefault(call.queue, {"waiting": 0, "longest_wait_seconds": 0.0})
            q["waiting"] += 1
            q["longest_wait_seconds"] = max(q["longest_wait_seconds"], round(now - call.joined_at, 1))
        by_presence: dict[str, int] = {str(p): 0 for p in Presence}
        for agent in self.agents.values():
            by_presence[str(agent.presence(now, self.wrapup_seconds))] += 1
        waits = [now - c.joined_at for c in self.waiting()]
        return {
            "waiting": len(waits),
            "longest_wait_seconds": round(max(waits), 1) if waits else 0.0,
            "queues": queues,
            "agents": by_presence,
            "agents_logged_in": len(self.agents),
        }


def _int(value: str | None) -> int:
    try:
        return int(value or 0)
    except ValueError:
        return 0


def _epoch(value: str | None) -> float | None:
    seconds = _int(value)
    return float(seconds) if seconds > 0 else None


_MEMBER_EVENTS = ("QueueMemberAdded", "QueueMemberStatus", "QueueMemberPause", "QueueMemberPenalty")
_HANDLERS = {
    **{name: QueueBoard._member for name in _MEMBER_EVENTS},
    "QueueMemberRemoved": QueueBoard._member_removed,
    "QueueCallerJoin": QueueBoard._caller_join,
    "QueueCallerLeave": QueueBoard._caller_left_queue,
    "QueueCallerAbandon": QueueBoard._caller_left_queue,
    "AgentCalled": QueueBoard._agent_called,
    "AgentRingNoAnswer": QueueBoard._ring_no_answer,
    "AgentConnect": QueueBoard._agent_connect,
    "AgentComplete": QueueBoard._agent_complete,
    "Hangup": QueueBoard._hangup,
}
