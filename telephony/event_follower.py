"""Follows Asterisk's AMI events: feeds them to the queue mirror, tells desktops what changed
(agent state, screen-pops, call states), follows transfers through domain.transfer_following and
carries out what that decides, and re-reads agent and queue state from Asterisk at every (re)connect."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping

from domain.agents import Change, QueueBoard
from domain.transfer_following import (
    Action,
    AgentDropsAfterOverlap,
    BackWithCaller,
    ConsultRinging,
    Followed,
    JoinAgentToRoom,
)
from telephony.ami import AmiClient, AmiError
from telephony.background import Background
from telephony.call_control import CallControl
from telephony.cti_config import SUPERVISORS, CtiHooks, Publish
from telephony.desk_pushes import DeskPushes
from telephony.mirror_changes import MirrorChanges
from telephony.transfer_log import TransferLog

log = logging.getLogger(__name__)

RESYNC_RETRY = "HotlineResyncRetry"  # our own event: try the re-read of queue state again
RESYNC_RETRY_SECONDS = (1.0, 2.0, 5.0, 10.0)  # after the 1st, 2nd, 3rd, and every later failure


class EventFollower:
    def __init__(
        self,
        ami: AmiClient,
        board: QueueBoard,
        hooks: CtiHooks,
        publish: Publish,
        pushes: DeskPushes,
        transfers: TransferLog,
        calls: CallControl,
        changes: MirrorChanges,
    ):
        self.ami = ami
        self.board = board
        self.hooks = hooks
        self.publish = publish
        self._pushes = pushes
        self._transfers = transfers
        self._calls = calls
        self._changes = changes
        self._rooms: dict[str, set[str]] = {}  # ConfBridge room -> channels in it
        self._background = Background(log)
        self._events: asyncio.Queue[Mapping[str, str]] | None = None  # run()'s, for resync retries
        self._resync_due = False  # set at every (re)connect, cleared once QueueStatus was read
        self._resync_failures = 0
        self._resync_retry: asyncio.TimerHandle | None = None

    async def run(self, events: asyncio.Queue[Mapping[str, str]]) -> None:
        """Consumes AMI events until cancelled. `events` must be subscribed before the AMI client
        connects: its HotlineAmiConnected event, at start and after every reconnect, is what
        makes the follower re-read agent and queue state from Asterisk."""
        self._events = events
        while True:
            event = await events.get()
            try:
                await self._handle(event)
            except Exception:
                log.exception("CTI: AMI event not handled: %s", dict(event))
            await self._changes.happened()

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
        log.info(
            "CTI: state re-read from Asterisk: %d agents logged in, %d waiting",
            len(self.board.agents),
            len(self.board.waiting()),
        )
        back = {"type": "telephony", "connected": True, "resynced": True}
        for agent in self.board.agents.values():
            self.publish(f"user:{agent.user}", back)
            self._pushes.agent(agent.extension)
        self.publish(SUPERVISORS, back)

    def _cancel_resync_retry(self) -> None:
        if self._resync_retry is not None:
            self._resync_retry.cancel()
            self._resync_retry = None

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
        for change in self.board.feed(event, time.time()):
            await self._push_change(change)
        await self._follow_transfer(event)

    # --- pushes ------------------------------------------------------------------------------

    async def _push_change(self, change: Change) -> None:
        if change.kind == "agent":
            self._pushes.agent(change.extension)
        elif change.kind == "offered":
            await self._screen_pop(change)
        elif change.kind == "connected":
            call = self.board.calls.get(change.call_id or "")
            if call is not None:
                self._pushes.call(call, "talking")
            self._pushes.agent(change.extension)
        elif change.kind in ("ended", "left"):  # the call, or the agent's part in it, is over
            agent = self.board.agents.get(change.extension or "")
            if agent is not None:
                self.publish(f"user:{agent.user}", {"type": "call", "call_id": change.call_id, "state": "ended"})
            self._pushes.agent(change.extension)
            if change.kind == "ended":
                self._transfers.ended(change.call_id or "")

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
        self.publish(
            f"user:{agent.user}",
            {
                "type": "screen_pop",
                "call_id": call.call_id,
                "caller": call.caller,
                "queue": call.queue,
                "ivr_path": call.ivr_path,
                "waited_seconds": round(time.time() - call.joined_at, 1),
                **context,
                "speech_draft": self.hooks.live_draft(call.call_id),
            },
        )

    # --- following transfers -----------------------------------------------------------------

    async def _follow_transfer(self, event: Mapping[str, str]) -> None:
        name = event.get("Event", "")
        if name == "ConfbridgeJoin":
            self._rooms.setdefault(event.get("Conference", ""), set()).add(event.get("Channel", ""))
        elif name == "ConfbridgeLeave":
            await self._left_room(event.get("Conference", ""), event.get("Channel", ""))
        elif (found := self._transfers.progress.follow(event, self.board, time.time())) is not None:
            await self._carry_out(*found)

    async def _carry_out(self, call_id: str, followed: Followed) -> None:
        actions: list[Action] = self._transfers.apply(call_id, followed)
        for action in actions:
            if isinstance(action, ConsultRinging):
                self.board.consult_ringing(call_id, action.channel)
            elif isinstance(action, BackWithCaller):
                self.board.back_with_caller(call_id)
                if (call := self.board.calls.get(call_id)) is not None:
                    self._pushes.call(call, "talking")
            elif isinstance(action, JoinAgentToRoom):
                await self._calls.join_agent_to_room(call_id)
            elif isinstance(action, AgentDropsAfterOverlap):
                self._background.spawn(self._calls.agent_drops_after_overlap(call_id), "CTI: agent leaving a handoff")

    async def _left_room(self, room: str, channel: str) -> None:
        """A caller left alone in a room (agent and third party gone) goes back to the queue."""
        members = self._rooms.get(room, set())
        members.discard(channel)
        call = self.board.call_in_room(room)
        if call is None:
            if not members:
                self._rooms.pop(room, None)
            return
        if call.agent_channel == channel:
            self.board.agent_leaves(call.call_id)
        alone = members == {call.caller_channel} and call.agent_channel is None
        if alone and not self._transfers.progress.ringing_into(room):
            log.info("CTI: caller %s alone in room %s: back to the queue", call.call_id, room)
            await self._calls.requeue_alone_in_room(call.call_id)
