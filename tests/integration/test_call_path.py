"""A 12345 call end to end: real Asterisk, our FastAGI IVR, app_queue, SIPp softphones."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from storage.barred_callers import bar_caller
from tests.integration.conftest import TRUNK_PORTS, Hotline, prompt_sound
from tests.integration.events import is_event
from tests.integration.sip_peers import Trunk, carrier_call

pytestmark = pytest.mark.integration

DEFAULT_PATH = "greeting>emergency_notice>barred_check>wait_check>general"


async def test_local_call_reaches_agent_and_is_recorded(hotline: Hotline, port: int) -> None:
    caller = hotline.new_caller()
    async with hotline.agent("8001", port) as agent:
        uniqueid, _ = await hotline.call(caller, hold_seconds=16)
        connect = await hotline.events.wait_for(is_event("AgentConnect", Uniqueid=uniqueid), timeout=30)
        records = await hotline.record(uniqueid)
        assert await asyncio.to_thread(agent.answered_calls, 10) == 0

    assert connect["Interface"] == "PJSIP/8001"
    for backend, record in records.items():
        assert record.caller == caller, backend
        assert record.ivr_path == DEFAULT_PATH, backend
        assert (record.route_action, record.queue, record.agi_fallback) == ("queue", "hotline-general", False)
        assert record.agent == "agent8001", backend
        assert record.wait_seconds is not None and 0 <= record.wait_seconds < 5, backend
        # Held 16 s from the answer; the IVR took ~12.5 s of that, so the agent talked for the rest.
        assert record.talk_seconds is not None and 1 <= record.talk_seconds <= 8, (backend, record.talk_seconds)
        assert record.abandoned is False
        assert record.started_at and record.answered_at and record.ended_at, backend
        assert record.started_at < record.answered_at < record.ended_at


async def test_carrier_sip_call_reaches_queue_and_agent(hotline: Hotline, port: int) -> None:
    since = hotline.events.mark()
    async with hotline.agent("8002", port) as agent:
        sipp = carrier_call(hotline.sip_address, "13912345678", hold_ms=16000, port=port + 5)
        start = await hotline.events.wait_for(
            is_event("UserEvent", UserEvent="HotlineCallStart", Caller="13912345678"), timeout=10, since=since
        )
        uniqueid = start["Uniqueid"]
        assert start["Channel"].startswith("PJSIP/carrier-")
        join = await hotline.events.wait_for(is_event("QueueCallerJoin", Uniqueid=uniqueid), timeout=20)
        connect = await hotline.events.wait_for(is_event("AgentConnect", Uniqueid=uniqueid), timeout=20)
        out, err = await asyncio.to_thread(sipp.communicate, timeout=40)
        assert sipp.returncode == 0, out[-800:] + err[-800:]
        records = await hotline.record(uniqueid)
        assert await asyncio.to_thread(agent.answered_calls, 10) == 0

    assert join["Queue"] == "hotline-general"
    assert connect["MemberName"] == "agent8002"
    assert {r.agent for r in records.values()} == {"agent8002"}


async def test_caller_hanging_up_in_queue_is_recorded_as_abandoned(hotline: Hotline) -> None:
    # No agent is registered, so the caller waits in the queue until hanging up.
    uniqueid, _ = await hotline.call(hotline.new_caller(), hold_seconds=17)
    join = await hotline.events.wait_for(is_event("QueueCallerJoin", Uniqueid=uniqueid), timeout=20)
    abandon = await hotline.events.wait_for(is_event("QueueCallerAbandon", Uniqueid=uniqueid), timeout=20)
    records = await hotline.record(uniqueid)

    assert join["Queue"] == "hotline-general"
    for record in records.values():
        assert record.abandoned is True
        assert record.agent is None and record.answered_at is None
        assert record.wait_seconds == pytest.approx(float(abandon["HoldTime"]), abs=1)
        assert (
            record.wait_seconds is not None and 2 <= record.wait_seconds <= 6
        )  # 17 s hold less ~12.5 s of IVR prompts and the position


async def test_key_0_hands_the_caller_to_police_110(hotline: Hotline) -> None:
    with Trunk(TRUNK_PORTS["110"]):
        uniqueid, caller_end = await hotline.call(hotline.new_caller(), hold_seconds=20)
        await hotline.events.wait_for(
            lambda e: (
                e.get("Event") == "AGIExecStart"
                and e.get("Uniqueid") == uniqueid
                and e.get("Command", "").startswith(f"STREAM FILE {prompt_sound('greeting')}")
            ),
            timeout=10,
        )
        await hotline.ami.play_dtmf(caller_end, "0")
        dial = await hotline.events.wait_for(is_event("DialEnd", Uniqueid=uniqueid), timeout=20)
        records = await hotline.record(uniqueid)

    assert dial["DestChannel"].startswith("PJSIP/emergency-110-")
    assert dial["DialStatus"] == "ANSWER"
    for record in records.values():
        assert (record.route_action, record.transfer_target) == ("transfer", "110")
        assert record.ivr_path == "greeting>police"
        assert record.queue is None and record.abandoned is False


async def test_barred_caller_hears_notice_and_is_refused(hotline: Hotline) -> None:
    caller = hotline.new_caller()
    now = datetime.now(UTC)
    with hotline.databases["sqlite"].begin() as session:
        bar_caller(session, caller, "辱骂话务员", "supervisor-1", now, now + timedelta(days=30))
    uniqueid, _ = await hotline.call(caller, hold_seconds=40)
    records = await hotline.record(uniqueid)
    for record in records.values():
        assert record.route_action == "hangup"
        assert record.ivr_path == "greeting>emergency_notice>barred_check>barred>refuse"
        assert record.hangup_cause_code == 21 and record.queue is None
