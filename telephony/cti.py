"""Agent call control (CTI) on Asterisk's own machinery: app_queue membership over AMI for agent
state, and Redirect, Bridge, BlindTransfer, Originate and ConfBridge for hold, transfers, three-way
calls and 110 handoffs. The dialplan contexts it drives (cti-*) are in asterisk_conf/extensions.conf.

One task (`run`) consumes AMI events, keeps a QueueBoard mirror and pushes what changed; the
agent API calls the operations. Every operation checks that the call is the agent's own."""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from domain.agents import Agent, CallMode, Change, LiveCall, QueueBoard
from domain.transfers import Transfer, TransferKind, TransferState
from telephony import metrics
from telephony.ami import AmiClient, AmiError
from telephony.background import Background

log = logging.getLogger(__name__)

PAUSE_REASONS = ("break", "meal", "training", "meeting", "after_call_work", "other")
SUPERVISORS = "supervisors"
RESYNC_RETRY = "HotlineResyncRetry"  # our own event: try the re-read of queue state again
RESYNC_RETRY_SECONDS = (1.0, 2.0, 5.0, 10.0)  # after the 1st, 2nd, 3rd, and every later failure

Publish = Callable[[str, dict], None]  # audience ("user:<name>" or "supervisors"), message


def conference_room(call_id: str) -> str:
    """The ConfBridge room of a call: the digits of the caller's uniqueid (dialplan-safe)."""
    return "".join(ch for ch in call_id if ch.isdigit())


class CallControlError(Exception):
    """A call-control request that cannot be done; the subclass says why."""


class UnknownCall(CallControlError):
    pass


class NotYourCall(CallControlError):
    pass


class UnknownTarget(CallControlError):
    pass


class WrongState(CallControlError):
    pass


class InvalidRequest(CallControlError):
    pass


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


@dataclass
class _Pending:
    """An Originate in flight: the call whose room the rung party joins."""

    call_id: str
    room: str


class CtiService:
    def __init__(self, ami: AmiClient, config: CtiConfig, hooks: CtiHooks, publish: Publish):
        self.ami = ami
        self.config = config
        self.hooks = hooks
        self.publish = publish
        self.board = QueueBoard(config.wrapup_seconds)
        self.transfers: dict[str, Transfer] = {}  # by call id, the latest one
        self._originates: dict[str, _Pending] = {}  # by ActionID
        self._rooms: dict[str, set[str]] = {}  # ConfBridge room -> channels in it
        self._changed = asyncio.Condition()
        self._ids = itertools.count(1)
        self._day = ""
        self._answered_base = (0, 0)
        self._background = Background(log)
        self._events: asyncio.Queue[Mapping[str, str]] | None = None  # run()'s, for resync retries
        self._resync_due = False  # set at every (re)connect, cleared once QueueStatus was read
        self._resync_failures = 0
        self._resync_retry: asyncio.TimerHandle | None = None

    # --- the event loop ----------------------------------------------------------------------

    async def run(self, events: asyncio.Queue[Mapping[str, str]]) -> None:
        """Consumes AMI events until cancelled. `events` must be subscribed before the AMI client
        connects: its HotlineAmiConnected event, at start and after every reconnect, is what
        makes the service re-read agent and queue state from Asterisk."""
        self._events = events
        while True:
            event = await events.get()
            try:
                await self._handle(event)
            except Exception:
                log.exception("CTI: AMI event not handled: %s", dict(event))
            async with self._changed:
                self._changed.notify_all()

    async def resync(self) -> None:
        """Re-reads agent and queue state from Asterisk (QueueStatus) and tells every desktop.

        Retried until it succeeds, for as long as AMI stays connected: right after a reconnect
        Asterisk may still be booting (AMI takes logins before app_queue is loaded and answers
        QueueStatus with "Invalid/unknown command"), and on a loaded machine it may not answer in
        time. A failed re-read is never the end of it, or the mirror would stay empty or stale
        until the next reconnect. The retry comes back through run()'s event queue, so other
        events are handled while it waits. If AMI is down, the next HotlineAmiConnected re-reads."""
        self._cancel_resync_retry()
        try:
            status = await self.ami.queue_status()
        except AmiError as exc:
            self._resync_failures += 1
            if self.ami.connected and self._events is not None:
                delay = RESYNC_RETRY_SECONDS[min(self._resync_failures, len(RESYNC_RETRY_SECONDS)) - 1]
                log.warning("CTI: queue state not re-read: %s; trying again in %.0f s", exc, delay)
                self._resync_retry = asyncio.get_running_loop().call_later(
                    delay, self._events.put_nowait, {"Event": RESYNC_RETRY}
                )
            else:
                log.warning("CTI: queue state not re-read: %s; re-read when AMI is back", exc)
            return
        self._resync_due, self._resync_failures = False, 0
        self.board.reset(status, time.time())
        log.info("CTI: state re-read from Asterisk: %d agents logged in, %d waiting",
                 len(self.board.agents), len(self.board.waiting()))
        back = {"type": "telephony", "connected": True, "resynced": True}
        for agent in self.board.agents.values():
            self.publish(f"user:{agent.user}", back)
            self._push_agent(agent.extension)
        self.publish(SUPERVISORS, back)

    def _cancel_resync_retry(self) -> None:
        if self._resync_retry is not None:
            self._resync_retry.cancel()
            self._resync_retry = None

    async def run_wallboard(self) -> None:
        """Pushes the wallboard to supervisors every few seconds."""
        while True:
            await asyncio.sleep(self.config.wallboard_interval_seconds)
            try:
                wallboard = await self.wallboard()
                metrics.show_wallboard(wallboard)
                self.publish(SUPERVISORS, {"type": "wallboard", **wallboard})
            except Exception:
                log.exception("CTI: wallboard not pushed")

    def longest_wait(self) -> float:
        """The longest wait of a caller queued now, in seconds. Safe from other threads (the IVR's):
        the calls are copied in one step before they are read."""
        now = time.time()
        return max((now - c.joined_at for c in tuple(self.board.calls.values()) if c.mode is CallMode.QUEUED), default=0.0)

    async def wallboard(self) -> dict:
        today = time.strftime("%Y-%m-%d")
        if today != self._day:  # counts start from what the database holds for the day
            self._answered_base = await asyncio.to_thread(self.hooks.answered_today)
            self._day = today
            self.board.answered = self.board.answered_in_time = 0
        answered = self._answered_base[0] + self.board.answered
        in_time = self._answered_base[1] + self.board.answered_in_time
        return {
            **self.board.wallboard(time.time()), "telephony_connected": self.ami.connected,
            "answered_today": answered, "answered_within_15s_today": in_time,
        }

    async def _handle(self, event: Mapping[str, str]) -> None:
        name = event.get("Event", "")
        if name == "HotlineAmiConnected":
            self._resync_due, self._resync_failures = True, 0
            await self.resync()
            return
        if name == RESYNC_RETRY:
            if self._resync_due:  # still due: no re-read after a later reconnect has succeeded
                await self.resync()
            return
        if name == "HotlineAmiDisconnected":
            self.publish(SUPERVISORS, {"type": "telephony", "connected": False})
            for agent in self.board.agents.values():
                self.publish(f"user:{agent.user}", {"type": "telephony", "connected": False})
            return
        now = time.time()
        for change in self.board.feed(event, now):
            await self._push_change(change)
        await self._follow_transfer(event, now)

    # --- pushes ------------------------------------------------------------------------------

    def _push_agent(self, extension: str | None) -> None:
        agent = self.board.agents.get(extension or "")
        if agent is not None:
            self.publish(f"user:{agent.user}", {"type": "agent", **agent.view(time.time(), self.config.wrapup_seconds)})

    def _push_call(self, call: LiveCall, state: str) -> None:
        agent = self.board.agents.get(call.agent_extension or "")
        if agent is not None:
            self.publish(f"user:{agent.user}", {"type": "call", "call_id": call.call_id, "state": state})

    async def _push_change(self, change: Change) -> None:
        if change.kind == "agent":
            self._push_agent(change.extension)
        elif change.kind == "offered":
            await self._screen_pop(change)
        elif change.kind == "connected":
            call = self.board.calls.get(change.call_id or "")
            if call is not None:
                self._push_call(call, "talking")
            self._push_agent(change.extension)
        elif change.kind in ("ended", "left"):  # the call, or the agent's part in it, is over
            agent = self.board.agents.get(change.extension or "")
            if agent is not None:
                self.publish(f"user:{agent.user}", {"type": "call", "call_id": change.call_id, "state": "ended"})
            self._push_agent(change.extension)
            if change.kind == "ended":
                self.transfers.pop(change.call_id or "", None)

    async def _screen_pop(self, change: Change) -> None:
        agent = self.board.agents.get(change.extension or "")
        call = self.board.calls.get(change.call_id or "")
        if agent is None or call is None:
            return
        try:
            context = await asyncio.to_thread(self.hooks.caller_context, call.caller, call.call_id)
        except Exception as exc:  # the pop still shows what Asterisk knows
            log.warning("CTI: caller context for %s not loaded: %s", call.call_id, exc)
            context = {"context_error": "previous tickets could not be loaded"}
        self.publish(f"user:{agent.user}", {
            "type": "screen_pop", "call_id": call.call_id, "caller": call.caller, "queue": call.queue,
            "ivr_path": call.ivr_path, "waited_seconds": round(time.time() - call.joined_at, 1), **context,
            "speech_draft": self.hooks.live_draft(call.call_id),
        })

    def _push_transfer(self, transfer: Transfer, message: str = "") -> None:
        self.transfers[transfer.call_id] = transfer
        payload = {"type": "transfer", **transfer.view()}
        if message:
            payload["message"] = message
        self.publish(f"user:{transfer.by_user}", payload)
        if transfer.state is TransferState.FAILED:
            self.publish(f"user:{transfer.by_user}", {"type": "error", "call_id": transfer.call_id, "message": message})

    def _advance(self, call_id: str, state: TransferState, reason: str = "", message: str = "") -> Transfer | None:
        transfer = self.transfers.get(call_id)
        if transfer is None or transfer.finished or transfer.state == state:
            return None
        transfer = transfer.to(state, time.time(), reason)
        self._push_transfer(transfer, message)
        if transfer.finished:
            metrics.TRANSFERS.labels(str(transfer.kind), str(transfer.state)).inc()
            if transfer.kind in (TransferKind.HANDOFF, TransferKind.DIRECT_HANDOFF):
                self._background.spawn(asyncio.to_thread(self.hooks.record_handoff, transfer), "CTI: record handoff")
        return transfer

    # --- following transfers from events ---------------------------------------------------

    async def _follow_transfer(self, event: Mapping[str, str], now: float) -> None:
        name = event.get("Event", "")
        if name == "OriginateResponse":
            await self._originate_done(event)
        elif name == "ConfbridgeJoin":
            self._rooms.setdefault(event.get("Conference", ""), set()).add(event.get("Channel", ""))
        elif name == "ConfbridgeLeave":
            await self._left_room(event.get("Conference", ""), event.get("Channel", ""))
        elif name in ("DialBegin", "DialEnd"):
            self._dial_progress(event)
        elif name == "UserEvent" and event.get("UserEvent") in ("HotlineTransferFailed", "HotlineConsultEnded"):
            self._dialplan_report(event)

    def _call_by_channel(self, channel: str) -> LiveCall | None:
        return next(
            (c for c in self.board.calls.values() if channel in (c.caller_channel, c.agent_channel)), None
        )

    def _dial_progress(self, event: Mapping[str, str]) -> None:
        """DialBegin/DialEnd from a caller being blind-transferred or an agent consulting."""
        call = self._call_by_channel(event.get("Channel", ""))
        if call is None or call.call_id not in self.transfers:
            return
        transfer = self.transfers[call.call_id]
        if transfer.kind is TransferKind.ATTENDED and event.get("Channel") == call.agent_channel:
            call.consult_channel = event.get("DestChannel")
        elif transfer.kind not in (TransferKind.BLIND, TransferKind.DIRECT_HANDOFF):
            return
        if event["Event"] == "DialBegin":
            self._advance(call.call_id, TransferState.RINGING)
        elif event.get("DialStatus") == "ANSWER":
            answered = self._advance(call.call_id, TransferState.ANSWERED)
            if answered is not None and transfer.kind is not TransferKind.ATTENDED:
                self._advance(call.call_id, TransferState.COMPLETED)

    def _dialplan_report(self, event: Mapping[str, str]) -> None:
        call_id = event.get("CallId", "")
        call = self.board.calls.get(call_id)
        status = event.get("DialStatus", "")
        if event.get("UserEvent") == "HotlineTransferFailed":
            self._advance(call_id, TransferState.FAILED, status,
                          f"the target did not answer ({status or 'no answer'}); the caller is offered back to you")
            return
        # HotlineConsultEnded: the consultation is over and the agent is back with the caller
        if call is not None and event.get("Completed") != "1":
            call.mode, call.consult_channel = CallMode.TALKING, None
            self._push_call(call, "talking")
            transfer = self.transfers.get(call_id)
            if transfer is not None and transfer.state is not TransferState.CANCELLED:
                if transfer.answered_at is None:
                    self._advance(call_id, TransferState.FAILED, status,
                                  f"the target did not answer ({status or 'no answer'}); you are back with the caller")
                else:
                    self._advance(call_id, TransferState.CANCELLED, "target hung up")

    async def _originate_done(self, event: Mapping[str, str]) -> None:
        pending = self._originates.pop(event.get("ActionID", ""), None)
        if pending is None:
            return
        call = self.board.calls.get(pending.call_id)
        transfer = self.transfers.get(pending.call_id)
        if call is None or transfer is None:
            return
        if event.get("Response") == "Success":
            self._advance(call.call_id, TransferState.ANSWERED)
            if transfer.kind is TransferKind.CONFERENCE:
                self._advance(call.call_id, TransferState.COMPLETED)
            elif transfer.kind is TransferKind.HANDOFF:
                await self._join_agent_to_room(call)
                self._background.spawn(self._agent_drops_after_overlap(call), "CTI: agent leaving a handoff")
            return
        reason = {"1": "NOANSWER", "3": "NOANSWER", "5": "BUSY", "8": "CONGESTION"}.get(event.get("Reason", ""), "FAILED")
        if transfer.kind is TransferKind.HANDOFF:
            await self._join_agent_to_room(call)
            message = f"{transfer.target} did not answer ({reason}); you are back with the caller"
        else:
            message = f"{transfer.target} did not answer ({reason}); the caller is still with you"
        self._advance(call.call_id, TransferState.FAILED, reason, message)

    async def _join_agent_to_room(self, call: LiveCall) -> None:
        """The agent, waiting on hold while 110 rang, joins the caller's room."""
        if call.agent_channel is None or call.room is None:
            return
        await self.ami.setvar(call.agent_channel, "CTI_HELD_CALLER", "")
        await self.ami.setvar(call.agent_channel, "CTI_CONF_USER", "hotline-agent")
        await self.ami.redirect(call.agent_channel, "cti-conference", call.room)
        call.mode = CallMode.CONFERENCE

    async def _agent_drops_after_overlap(self, call: LiveCall) -> None:
        await asyncio.sleep(self.config.handoff_overlap_seconds)
        if call.agent_channel is not None and call.call_id in self.board.calls:
            await self.ami.hangup(call.agent_channel)
        self._advance(call.call_id, TransferState.COMPLETED)

    async def _left_room(self, room: str, channel: str) -> None:
        """A caller left alone in a room (agent and third party gone) goes back to the queue."""
        members = self._rooms.get(room, set())
        members.discard(channel)
        call = next((c for c in self.board.calls.values() if c.room == room), None)
        if call is None:
            if not members:
                self._rooms.pop(room, None)
            return
        if call.agent_channel == channel:
            call.agent_channel = None
            if call.agent_extension in self.board.agents:
                self.board.agents[call.agent_extension].call_id = None
            call.agent_extension = None
        pending = any(p.room == room for p in self._originates.values())
        if members == {call.caller_channel} and not pending and call.agent_channel is None:
            log.info("CTI: caller %s alone in room %s: back to the queue", call.call_id, room)
            call.room = None
            await self.ami.redirect(call.caller_channel, "hotline-route", "requeue")

    # --- agent state -------------------------------------------------------------------------

    async def _settled(self, done: Callable[[], bool], timeout: float = 5.0) -> None:
        """Waits until Asterisk's events show an action's effect on the mirror."""
        async with self._changed:
            try:
                await asyncio.wait_for(self._changed.wait_for(done), timeout)
            except TimeoutError:
                log.warning("CTI: Asterisk did not confirm a change within %.0f s", timeout)

    def agent_view(self, user: str) -> dict:
        agent = self.board.agent_for_user(user)
        if agent is None:
            return {"logged_in": False, "user": user}
        return {"logged_in": True, **agent.view(time.time(), self.config.wrapup_seconds)}

    def agents_view(self) -> list[dict]:
        now = time.time()
        return [a.view(now, self.config.wrapup_seconds) for a in sorted(self.board.agents.values(), key=lambda a: a.extension)]

    async def login(self, user: str, extension: str, skills: Mapping[str, int] | None) -> dict:
        skills = self.config.default_skills if skills is None else skills
        if extension not in self.config.agent_extensions:
            raise UnknownTarget(f"extension {extension} is not an agent softphone")
        unknown = sorted(set(skills) - set(self.config.skill_queues))
        if unknown or not skills:
            raise InvalidRequest(f"unknown skills {unknown}; known: {sorted(self.config.skill_queues)}" if unknown else "name at least one skill")
        if any(not 0 <= p <= 100 for p in skills.values()):
            raise InvalidRequest("a skill's penalty must be between 0 and 100")
        holder = self.board.agents.get(extension)
        if holder is not None and holder.user != user:
            raise WrongState(f"extension {extension} is in use by {holder.user}")
        current = self.board.agent_for_user(user)
        if current is not None and current.extension != extension:
            raise WrongState(f"you are logged in at extension {current.extension}: log out there first")
        wanted = {self.config.skill_queues[s]: p for s, p in skills.items()}
        interface = f"PJSIP/{extension}"
        present = dict(holder.queues) if holder else {}
        for queue in present.keys() - wanted.keys():
            await self.ami.queue_remove(queue, interface)
        for queue, penalty in wanted.items():
            if queue in present and present[queue] != penalty:
                await self.ami.queue_remove(queue, interface)
            if queue not in present or present[queue] != penalty:
                await self.ami.queue_add(queue, interface, user, penalty)
        await self._settled(lambda: (a := self.board.agents.get(extension)) is not None and a.queues == wanted)
        return self.agent_view(user)

    def _my_agent(self, user: str) -> Agent:
        agent = self.board.agent_for_user(user)
        if agent is None:
            raise WrongState("you are not logged in at a softphone")
        return agent

    async def pause(self, user: str, reason: str) -> dict:
        if reason not in PAUSE_REASONS:
            raise InvalidRequest(f"unknown pause reason {reason!r}; use one of {', '.join(PAUSE_REASONS)}")
        agent = self._my_agent(user)
        await self.ami.queue_pause(f"PJSIP/{agent.extension}", True, reason)
        await self._settled(lambda: agent.paused and agent.pause_reason == reason)
        return self.agent_view(user)

    async def unpause(self, user: str) -> dict:
        agent = self._my_agent(user)
        await self.ami.queue_pause(f"PJSIP/{agent.extension}", False)
        await self._settled(lambda: not agent.paused)
        return self.agent_view(user)

    async def logout(self, user: str) -> dict:
        agent = self._my_agent(user)
        for queue in list(agent.queues):
            await self.ami.queue_remove(queue, f"PJSIP/{agent.extension}")
        await self._settled(lambda: agent.extension not in self.board.agents)
        return self.agent_view(user)

    # --- call control ------------------------------------------------------------------------

    def _own_call(self, user: str, call_id: str, *modes: CallMode) -> LiveCall:
        call = self.board.calls.get(call_id)
        if call is None:
            raise UnknownCall(f"no live call {call_id}")
        agent = self.board.agent_for_user(user)
        if agent is None or call.agent_extension != agent.extension:
            raise NotYourCall(f"call {call_id} is not connected to you")
        if modes and call.mode not in modes:
            raise WrongState(f"call {call_id} is {call.mode}; this needs it {' or '.join(map(str, modes))}")
        return call

    async def _phone(self, target: Target) -> tuple[str, str]:
        """The target's number (the dialplan extension a transfer goes to) and dial string."""
        if target.kind == "agent" and target.id in self.config.agent_extensions:
            return target.id, f"PJSIP/{target.id}"
        if target.kind == "emergency" and target.id in self.config.emergency_numbers:
            return target.id, f"PJSIP/emergency-{target.id}"
        if target.kind == "department":
            phone = await asyncio.to_thread(self.hooks.department_phone, target.id)
            if phone:
                return phone, f"PJSIP/{phone}"
            raise UnknownTarget(f"department {target.id} is unknown or has no phone in the directory")
        raise UnknownTarget(f"unknown {target.kind} {target.id!r}")

    def _start(self, call: LiveCall, kind: TransferKind, target: Target, user: str, ticket: str | None = None) -> Transfer:
        transfer = Transfer(call.call_id, kind, str(target), user, time.time(), ticket_number=ticket)
        self._push_transfer(transfer)
        return transfer

    async def place_callback(self, user: str, number: str, callback_id: int) -> dict:
        """Calls a caller back: the agent's phone rings first, and once answered Asterisk dials the
        caller through the carrier (cti-callback). The agent records the outcome on the task."""
        agent = self._my_agent(user)
        if agent.call_id is not None:
            raise WrongState("finish your current call before calling back")
        await self.ami.originate(
            f"PJSIP/{agent.extension}", "cti-callback", number, self.config.ring_seconds, f'"回拨 {number}" <{number}>',
            {"CTI_CALLBACK_ID": str(callback_id), "CTI_RING_SECONDS": str(self.config.ring_seconds)},
            f"hotline-cti-{next(self._ids)}",
        )
        return {"state": "ringing_agent", "extension": agent.extension}

    async def hangup(self, user: str, call_id: str) -> None:
        call = self._own_call(user, call_id)
        await self.ami.hangup(call.caller_channel)

    async def hold(self, user: str, call_id: str) -> dict:
        call = self._own_call(user, call_id, CallMode.TALKING)
        assert call.agent_channel is not None
        await self.ami.setvar(call.agent_channel, "CTI_HELD_CALLER", call.caller_channel)
        await self.ami.redirect(call.caller_channel, "cti-hold", "caller", extra=(call.agent_channel, "cti-hold", "agent"))
        call.mode = CallMode.HELD
        self._push_call(call, "held")
        return {"call_id": call_id, "state": "held"}

    async def unhold(self, user: str, call_id: str) -> dict:
        call = self._own_call(user, call_id, CallMode.HELD)
        assert call.agent_channel is not None
        await self.ami.setvar(call.agent_channel, "CTI_HELD_CALLER", "")
        await self.ami.bridge(call.agent_channel, call.caller_channel)
        call.mode = CallMode.TALKING
        self._push_call(call, "talking")
        return {"call_id": call_id, "state": "talking"}

    async def blind_transfer(self, user: str, call_id: str, target: Target, kind: TransferKind = TransferKind.BLIND, ticket: str | None = None) -> dict:
        call = self._own_call(user, call_id, CallMode.TALKING)
        assert call.agent_channel is not None and call.agent_extension is not None
        if target.kind == "queue":
            if target.id not in self.config.queues:
                raise UnknownTarget(f"unknown queue {target.id!r}")
            exten, variables = "queue", {"CTI_QUEUE": target.id}
        else:
            exten, dial = await self._phone(target)
            variables = {"CTI_DIAL": dial, "CTI_RETURN_TO": call.agent_extension}
        variables |= {"CTI_RING_SECONDS": str(self.config.ring_seconds), "CTI_CALL_ID": call_id}
        transfer = self._start(call, kind, target, user, ticket)
        for name, value in variables.items():
            await self.ami.setvar(call.caller_channel, name, value)
        await self.ami.blind_transfer(call.agent_channel, "cti-transfer", exten)
        if target.kind == "queue":
            self._advance(call_id, TransferState.COMPLETED)
        return self.transfers.get(call_id, transfer).view()

    async def consult(self, user: str, call_id: str, target: Target) -> dict:
        call = self._own_call(user, call_id, CallMode.TALKING)
        assert call.agent_channel is not None
        _, dial = await self._phone(target)
        transfer = self._start(call, TransferKind.ATTENDED, target, user)
        for name, value in {
            "CTI_HELD_CALLER": call.caller_channel, "CTI_DIAL": dial, "CTI_COMPLETED": "",
            "CTI_RING_SECONDS": str(self.config.ring_seconds), "CTI_CALL_ID": call_id,
        }.items():
            await self.ami.setvar(call.agent_channel, name, value)
        await self.ami.redirect(call.caller_channel, "cti-hold", "caller", extra=(call.agent_channel, "cti-consult", "s"))
        call.mode = CallMode.CONSULTING
        self._push_call(call, "consulting")
        return transfer.view()

    async def complete_consult(self, user: str, call_id: str) -> dict:
        call = self._own_call(user, call_id, CallMode.CONSULTING)
        transfer = self.transfers.get(call_id)
        if transfer is None or transfer.state is not TransferState.ANSWERED or call.consult_channel is None:
            raise WrongState("the target has not answered yet: cancel, or wait for it to answer")
        assert call.agent_channel is not None
        await self.ami.setvar(call.agent_channel, "CTI_COMPLETED", "1")
        await self.ami.setvar(call.agent_channel, "CTI_HELD_CALLER", "")
        await self.ami.bridge(call.caller_channel, call.consult_channel)
        agent = self.board.agents.get(call.agent_extension or "")
        if agent is not None:
            agent.call_id = None
        call.mode, call.agent_extension, call.agent_channel = CallMode.TALKING, None, None
        done = self._advance(call_id, TransferState.COMPLETED)
        return (done or transfer).view()

    async def cancel_consult(self, user: str, call_id: str) -> dict:
        call = self._own_call(user, call_id, CallMode.CONSULTING)
        transfer = self._advance(call_id, TransferState.CANCELLED, "cancelled by the agent")
        if call.consult_channel is not None:
            await self.ami.hangup(call.consult_channel)
        return (transfer or self.transfers[call_id]).view()

    async def conference(self, user: str, call_id: str, target: Target) -> dict:
        """Caller, agent and target in one ConfBridge room; the agent may leave later."""
        call = self._own_call(user, call_id, CallMode.TALKING)
        _, dial = await self._phone(target)
        transfer = self._start(call, TransferKind.CONFERENCE, target, user)
        await self._into_room(call, agent_waits=False)
        await self._ring_into_room(call, dial)
        return transfer.view()

    async def leave_conference(self, user: str, call_id: str) -> dict:
        call = self._own_call(user, call_id, CallMode.CONFERENCE)
        assert call.agent_channel is not None
        await self.ami.hangup(call.agent_channel)
        return {"call_id": call_id, "state": "left"}

    async def emergency(self, user: str, call_id: str, number: str, direct: bool, ticket: str | None) -> dict:
        """One key: 110/119/120 rings while the caller hears music; answered, the agent joins a
        three-way call and drops after a short overlap. Unanswered or busy: the caller comes back
        to the agent, who gets an error event. `direct` transfers blind instead."""
        target = Target("emergency", number)
        if number not in self.config.emergency_numbers:
            raise UnknownTarget(f"no emergency target {number}; configured: {sorted(self.config.emergency_numbers)}")
        # An emergency handoff never waits on the database: a ticket that cannot be checked now is
        # checked when the handoff is written onto it.
        if ticket is not None and await asyncio.to_thread(self.hooks.ticket_exists, ticket) is False:
            raise UnknownTarget(f"no ticket {ticket} to record the handoff on")
        if direct:
            return await self.blind_transfer(user, call_id, target, TransferKind.DIRECT_HANDOFF, ticket)
        call = self._own_call(user, call_id, CallMode.TALKING)
        transfer = self._start(call, TransferKind.HANDOFF, target, user, ticket)
        await self._into_room(call, agent_waits=True)
        await self._ring_into_room(call, (await self._phone(target))[1])
        call.mode = CallMode.HANDOFF
        return transfer.view()

    async def _into_room(self, call: LiveCall, agent_waits: bool) -> None:
        """Moves the caller into the call's ConfBridge room; the agent joins too, or waits on
        hold (the caller alone in the room hears music)."""
        assert call.agent_channel is not None
        call.room = conference_room(call.call_id)
        await self.ami.setvar(call.caller_channel, "CTI_CONF_USER", "hotline-caller")
        if agent_waits:
            await self.ami.setvar(call.agent_channel, "CTI_HELD_CALLER", call.caller_channel)
            agent_goes = (call.agent_channel, "cti-hold", "agent")
        else:
            await self.ami.setvar(call.agent_channel, "CTI_CONF_USER", "hotline-agent")
            agent_goes = (call.agent_channel, "cti-conference", call.room)
        await self.ami.redirect(call.caller_channel, "cti-conference", call.room, extra=agent_goes)
        call.mode = CallMode.CONFERENCE
        self._push_call(call, "conference")

    async def _ring_into_room(self, call: LiveCall, dial: str) -> None:
        assert call.room is not None
        action_id = f"hotline-cti-{next(self._ids)}"
        self._originates[action_id] = _Pending(call.call_id, call.room)
        try:
            await self.ami.originate(
                dial, "cti-conference", call.room, self.config.ring_seconds, f'"12345" <{call.caller}>',
                {"CTI_CONF_USER": "hotline-party"}, action_id,
            )
        except AmiError:
            self._originates.pop(action_id, None)
            raise
        self._advance(call.call_id, TransferState.RINGING)
