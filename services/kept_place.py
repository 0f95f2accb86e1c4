"""Records the outcome of each kept-place callback (the IVR's callback offer) on its task, from the
HotlineCallbackEnded event the dialplan raises when the call Asterisk placed ends."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from datetime import UTC, datetime

from sqlalchemy.orm import Session, sessionmaker

from domain.callbacks import CallbackPolicy, kept_place_call_ended
from domain.dialplan_names import UserEvent
from storage.callbacks import load_callback, save_callback

log = logging.getLogger(__name__)


def record_outcome(sessions: sessionmaker[Session], task_id: int, dial_status: str, policy: CallbackPolicy) -> None:
    with sessions.begin() as session:
        task = load_callback(session, task_id)
        changed = None if task is None else kept_place_call_ended(task, dial_status, datetime.now(UTC), policy)
        if changed is not None:
            save_callback(session, changed)
            log.info("kept-place callback %d: %s, now %s", task_id, dial_status, changed.status)


async def follow_kept_places(
    events: asyncio.Queue[Mapping[str, str]], sessions: sessionmaker[Session], policy: CallbackPolicy = CallbackPolicy()
) -> None:
    while True:
        event = await events.get()
        if event.get("Event") != "UserEvent" or event.get("UserEvent") != UserEvent.CALLBACK_ENDED:
            continue
        task_id = event.get("CallbackId", "")
        if not task_id.isdigit():
            continue
        try:
            await asyncio.to_thread(record_outcome, sessions, int(task_id), event.get("DialStatus", ""), policy)
        except Exception:
            # The task stays open, due when the kept place would have expired: agents still call back.
            log.exception("kept-place callback %s: could not record %s", task_id, event.get("DialStatus"))
