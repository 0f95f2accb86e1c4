"""Callbacks on the real Asterisk: an abandoned call becomes a callback task, and an agent's callback
rings their softphone, then goes out through the carrier (a SIPp "PSTN gateway") to the caller."""

from __future__ import annotations

import asyncio

import pytest

from storage.callbacks import list_callbacks
from tests.integration.conftest import CARRIER_PORT, AgentApi, Hotline
from tests.integration.events import is_event
from tests.integration.sip_peers import Trunk

pytestmark = pytest.mark.integration


async def test_a_caller_who_hangs_up_in_the_queue_gets_a_callback_task(hotline: Hotline) -> None:
    caller = hotline.new_caller()
    uniqueid, _ = await hotline.call(caller, hold_seconds=17)  # nobody answers: the caller gives up
    await hotline.record(uniqueid)

    def tasks(sessions):
        with sessions() as session:
            return [
                (t.reason, t.caller_number, t.status) for t in list_callbacks(session) if t.call_uniqueid == uniqueid
            ]

    for sessions in hotline.databases.values():
        assert await asyncio.to_thread(tasks, sessions) == [("abandoned", caller, "open")]


async def test_an_agent_calls_a_caller_back_through_the_carrier(
    hotline: Hotline, agent_api: AgentApi, port: int
) -> None:
    desk = await agent_api.desk("agent8012")
    caller = "13912340000"
    async with hotline.agent("8012", port):
        await desk.ok("/api/v1/agent/login", {"extension": "8012"})
        created = await desk.post("/api/v1/callbacks", {"caller_number": caller})
        assert created.status_code == 201, created.text
        task_id = created.json()["id"]
        await desk.ok(f"/api/v1/callbacks/{task_id}/claim")
        since = hotline.events.mark()
        with Trunk(CARRIER_PORT):
            placed = await desk.ok(f"/api/v1/callbacks/{task_id}/call")
            assert placed["call"] == {"state": "ringing_agent", "extension": "8012"}
            out = await hotline.events.wait_for(
                lambda e: e.get("Event") == "DialBegin" and e.get("DestChannel", "").startswith("PJSIP/carrier-"),
                timeout=20,
                since=since,
            )
            assert out["DialString"] == f"{caller}@carrier" and out["CallerIDNum"] == "12345"
            dialled = await hotline.events.wait_for(is_event("DialEnd", DestChannel=out["DestChannel"]), 20, since)
            assert dialled["DialStatus"] == "ANSWER"
            await hotline.ami.hangup(dialled["DestChannel"])  # the caller hangs up after talking
            ended = await hotline.events.wait_for(is_event("UserEvent", UserEvent="HotlineCallbackEnded"), 10, since)
        assert (ended["CallbackId"], ended["DialStatus"]) == (str(task_id), "ANSWER")
        done = await desk.post(f"/api/v1/callbacks/{task_id}/attempts", {"outcome": "answered", "note": "已回访"})
        assert done.status_code == 200 and done.json()["status"] == "done"
