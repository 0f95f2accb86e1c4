"""A call's growing transcript becomes a draft ticket on its agent's screen, and an emergency
phrase becomes action: the draft is urgent, supervisors are alerted, and a caller still waiting
is moved up the queue. Runs in the event loop, on every partial and final result."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from asr import metrics
from asr.streams import StreamInfo
from domain.agents import CallMode, LiveCall, QueueBoard
from domain.drafts import DraftTicket
from domain.speech import Purpose
from telephony.ami import AmiClient
from telephony.background import Background

log = logging.getLogger(__name__)

SUPERVISORS = "supervisors"


class LiveDrafts:
    def __init__(
        self,
        build: Callable[[StreamInfo, str], DraftTicket],
        board: QueueBoard,
        publish: Callable[[str, dict], None],
        ami: AmiClient,
        save_draft: Callable[[DraftTicket], None],
        emergency_priority: int,
    ):
        self._build = build
        self._board = board
        self._publish = publish
        self._ami = ami
        self._save_draft = save_draft
        self._emergency_priority = emergency_priority
        self._drafts: dict[str, DraftTicket] = {}
        self._alerted: dict[str, set[str]] = {}
        self._latest: dict[str, tuple[StreamInfo, str, bool]] = {}  # text not drafted yet, per call
        self._building: set[str] = set()
        self._ended: set[str] = set()
        self._background = Background(log)

    def draft_of(self, call_id: str) -> dict[str, Any] | None:
        """The call's current draft, for the screen-pop of the agent who answers it."""
        draft = self._drafts.get(call_id)
        return asdict(draft) if draft else None

    def on_text(self, stream: StreamInfo, text: str, final: bool) -> None:
        """Drafts are built in a worker thread (the first of a call may read the database), one at a
        time per call: text arriving meanwhile is coalesced, so the agent sees the latest."""
        if stream.purpose is not Purpose.CALL:
            return
        waiting = self._latest.get(stream.call_id)
        self._latest[stream.call_id] = (stream, text, final or bool(waiting and waiting[2]))
        if stream.call_id not in self._building:
            self._building.add(stream.call_id)
            self._background.spawn(self._build_latest(stream.call_id), f"drafting {stream.call_id}")

    def on_stream_end(self, stream: StreamInfo) -> None:
        self._ended.add(stream.call_id)
        if stream.call_id not in self._building:
            self._forget(stream.call_id)

    async def _build_latest(self, call_id: str) -> None:
        try:
            while (latest := self._latest.pop(call_id, None)) is not None:
                stream, text, final = latest
                try:
                    draft = await asyncio.to_thread(self._build, stream, text)
                except Exception:
                    log.exception("call %s: draft not built from %r", call_id, text[:80])
                    continue
                self._show(stream, draft, final)
                if final:
                    try:
                        await asyncio.to_thread(self._save_draft, draft)
                    except Exception as exc:  # the transcript's final draft is saved durably anyway
                        log.warning("call %s: live draft not saved (%s)", call_id, exc)
        finally:
            self._building.discard(call_id)
            if call_id in self._ended:
                self._forget(call_id)

    def _forget(self, call_id: str) -> None:
        for held in (self._drafts, self._alerted, self._latest):
            held.pop(call_id, None)
        self._ended.discard(call_id)

    def _show(self, stream: StreamInfo, draft: DraftTicket, final: bool) -> None:
        self._drafts[stream.call_id] = draft
        call = self._board.calls.get(stream.call_id)
        user = self._agent_user(call)
        if user:
            self._publish(
                f"user:{user}", {"type": "draft", "call_id": stream.call_id, "final": final, "draft": asdict(draft)}
            )
        heard = self._alerted.setdefault(stream.call_id, set())
        new = [p for p in draft.emergency_phrases if p not in heard]
        if new:
            heard.update(new)
            self._emergency(stream, call, user, draft, new)

    def _agent_user(self, call: LiveCall | None) -> str | None:
        agent = self._board.agents.get(call.agent_extension or "") if call else None
        return agent.user if agent else None

    def _emergency(
        self, stream: StreamInfo, call: LiveCall | None, user: str | None, draft: DraftTicket, phrases: list[str]
    ) -> None:
        waiting = call is not None and call.mode is CallMode.QUEUED
        if len(phrases) == len(draft.emergency_phrases):
            metrics.EMERGENCIES.inc()  # first phrase heard in this call
        alert = {
            "type": "emergency_alert",
            "call_id": stream.call_id,
            "caller": stream.caller,
            "phrases": phrases,
            "transcript": draft.transcript,
            "queue": call.queue if call else None,
            "agent_extension": call.agent_extension if call else None,
            "waiting": waiting,
        }
        log.warning("call %s: emergency phrase %s heard", stream.call_id, "、".join(phrases))
        self._publish(SUPERVISORS, alert)
        if user:
            self._publish(f"user:{user}", alert)
        if call is not None and waiting:
            self._background.spawn(
                self._ami.queue_change_priority(call.queue, call.caller_channel, self._emergency_priority),
                f"moving {stream.call_id} up the queue",
            )
