"""Call records folded from Asterisk AMI events (header names as in Asterisk 22)."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from domain.dialplan_names import UserEvent

Event = Mapping[str, str]


@dataclass(slots=True)
class CallRecord:
    uniqueid: str
    caller: str | None = None
    started_at: datetime | None = None
    ivr_path: str | None = None
    route_action: str | None = None  # "queue" / "transfer" / "hangup"
    queue: str | None = None
    priority: int | None = None
    transfer_target: str | None = None
    agi_fallback: bool = False  # FastAGI failed; the dialplan fell back to the default queue
    queue_joined_at: datetime | None = None
    answered_at: datetime | None = None
    ended_at: datetime | None = None
    wait_seconds: float | None = None
    agent: str | None = None
    talk_seconds: float | None = None
    hangup_cause: str | None = None
    hangup_cause_code: int | None = None
    abandoned: bool = False


def _text(event: Event, header: str) -> str | None:
    value = event.get(header, "").strip()
    return value or None


def _int(event: Event, header: str) -> int | None:
    try:
        return int(event.get(header, "").strip())
    except ValueError:
        return None


def _seconds(event: Event, header: str) -> float | None:
    try:
        value = float(event.get(header, "").strip())
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _agent(event: Event) -> str | None:
    """MemberName, else the device part of Interface ("PJSIP/8001" -> "8001")."""
    name = _text(event, "MemberName")
    if name:
        return name
    interface = _text(event, "Interface")
    return interface and (interface.partition("/")[2] or interface)


class CallTracker:
    """Tracks calls from their HotlineCallStart user event to the hangup of their own channel.

    Events for other uniqueids (agents' legs, Local channel halves, calls that started before we
    connected) are ignored."""

    def __init__(self) -> None:
        self._calls: dict[str, CallRecord] = {}
        self._handlers: dict[str, Callable[[CallRecord, Event, datetime], None]] = {
            f"UserEvent:{UserEvent.ROUTE}": self._route,
            "QueueCallerJoin": self._queue_join,
            "AgentConnect": self._agent_connect,
            "AgentComplete": self._agent_complete,
            "QueueCallerAbandon": self._queue_abandon,
            "BlindTransfer": self._blind_transfer,
        }

    def live(self) -> list[CallRecord]:
        return list(self._calls.values())

    def feed(self, event: Event, at: datetime) -> CallRecord | None:
        """Applies one event; returns the finished record when the tracked call hangs up."""
        name = event.get("Event", "")
        if name == "UserEvent":
            name = f"UserEvent:{event.get('UserEvent', '')}"
        uniqueid = event.get("Uniqueid") or event.get("TransfereeUniqueid", "")
        if name == f"UserEvent:{UserEvent.CALL_START}":
            if uniqueid and uniqueid not in self._calls:
                self._calls[uniqueid] = CallRecord(uniqueid, caller=_text(event, "Caller"), started_at=at)
            return None
        record = self._calls.get(uniqueid)
        if record is None:
            return None
        if name == "Hangup":
            del self._calls[uniqueid]
            self._hangup(record, event, at)
            return record
        handler = self._handlers.get(name)
        if handler is not None:
            handler(record, event, at)
        return None

    @staticmethod
    def _route(record: CallRecord, event: Event, at: datetime) -> None:
        record.route_action = _text(event, "Action")
        record.queue = _text(event, "Queue")
        record.priority = _int(event, "QueuePriority")
        record.transfer_target = _text(event, "Target")
        record.ivr_path = _text(event, "Path")
        record.agi_fallback = event.get("Fallback", "").strip().lower() == "yes"

    @staticmethod
    def _queue_join(record: CallRecord, event: Event, at: datetime) -> None:
        record.queue_joined_at = at
        record.queue = _text(event, "Queue") or record.queue

    @staticmethod
    def _agent_connect(record: CallRecord, event: Event, at: datetime) -> None:
        record.answered_at = at
        record.wait_seconds = _seconds(event, "HoldTime")
        record.queue = _text(event, "Queue") or record.queue
        record.agent = _agent(event)

    @staticmethod
    def _agent_complete(record: CallRecord, event: Event, at: datetime) -> None:
        record.talk_seconds = _seconds(event, "TalkTime")

    @staticmethod
    def _blind_transfer(record: CallRecord, event: Event, at: datetime) -> None:
        """The agent transferred the caller: to a phone number, or to `queue` (CTI_QUEUE)."""
        if event.get("Result") == "Success":
            record.transfer_target = _text(event, "Extension")

    @staticmethod
    def _queue_abandon(record: CallRecord, event: Event, at: datetime) -> None:
        record.abandoned = True
        record.wait_seconds = _seconds(event, "HoldTime")

    @staticmethod
    def _hangup(record: CallRecord, event: Event, at: datetime) -> None:
        record.ended_at = at
        record.hangup_cause = _text(event, "Cause-txt")
        record.hangup_cause_code = _int(event, "Cause")
        if record.answered_at is not None:
            if record.talk_seconds is None:
                record.talk_seconds = (at - record.answered_at).total_seconds()
        elif record.queue_joined_at is not None and not record.abandoned:
            # Left the queue unanswered; QueueCallerAbandon is missing for some hangup orders.
            record.abandoned = True
            record.wait_seconds = (at - record.queue_joined_at).total_seconds()
