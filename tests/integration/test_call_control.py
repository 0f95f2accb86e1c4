"""Call control against real Asterisk: hold, blind and attended transfers, three-way calls and 110
handoffs, each checked from AMI events, the desktop's live messages and the stored ticket. SIPp
plays the agent's, the department's and 110's phones; the caller is a Local channel."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import pytest
from prometheus_client import REGISTRY

from storage.tickets import audit_trail, load_ticket
from telephony.call_control import conference_room
from tests.integration.conftest import TRUNK_PORTS, AgentApi, Hotline
from tests.integration.desk import Desk, LiveFeed, message
from tests.integration.events import is_event
from tests.integration.sip_peers import Trunk
from tests.integration.test_agent_state import _ticket_for

pytestmark = pytest.mark.integration


@dataclass
class Call:
    uniqueid: str
    caller_channel: str
    agent_channel: str
    desk: Desk
    feed: LiveFeed
    since: int


@asynccontextmanager
async def connected_call(
    hotline: Hotline, agent_api: AgentApi, extension: str, port: int, hold: int = 40
) -> AsyncIterator[Call]:
    """A caller connected to agent <extension>, whose desktop is signed in and listening."""
    desk = await agent_api.desk(f"agent{extension}")
    feed, close = await desk.live()
    since = hotline.events.mark()
    try:
        with hotline.softphone(extension, port):
            await desk.ok("/api/v1/agent/login", {"extension": extension})
            uniqueid, _ = await hotline.call(hotline.new_caller(), hold_seconds=hold)
            connect = await hotline.events.wait_for(is_event("AgentConnect", Uniqueid=uniqueid), 30, since)
            await feed.wait_for(message("call", call_id=uniqueid, state="talking"), 10)
            yield Call(uniqueid, connect["Channel"], connect["DestChannel"], desk, feed, since)
            await desk.post("/api/v1/agent/logout")
    finally:
        await close()


def same_bridge(hotline: Hotline, since: int, *channels: str) -> bool:
    """Whether the channels' latest BridgeEnter events put them in one bridge."""
    bridges = set()
    for channel in channels:
        entered = hotline.events.matching(is_event("BridgeEnter", Channel=channel), since)
        if not entered:
            return False
        bridges.add(entered[-1]["BridgeUniqueid"])
    return len(bridges) == 1


async def wait_same_bridge(hotline: Hotline, since: int, *channels: str, timeout: float = 10) -> None:
    for _ in range(int(timeout * 10)):
        if same_bridge(hotline, since, *channels):
            return
        await asyncio.sleep(0.1)
    seen = [
        f"{e.get('Event')}({e.get('Channel', '')} {e.get('BridgeUniqueid', '')[:4]})"
        for e in hotline.events.events[since:]
        if e.get("Event") in ("BridgeEnter", "BridgeLeave", "Hangup", "DialEnd", "UserEvent", "MusicOnHoldStop")
    ]
    raise AssertionError(f"{channels} never shared a bridge; {seen}")


async def test_hold_plays_music_and_unhold_bridges_back(hotline: Hotline, agent_api: AgentApi, port: int) -> None:
    async with connected_call(hotline, agent_api, "8011", port) as call:
        mark = hotline.events.mark()
        assert (await call.desk.ok(f"/api/v1/calls/{call.uniqueid}/hold"))["state"] == "held"
        await hotline.events.wait_for(is_event("MusicOnHoldStart", Channel=call.caller_channel), 10, mark)
        again = await call.desk.post(f"/api/v1/calls/{call.uniqueid}/hold")
        assert again.status_code == 409

        mark = hotline.events.mark()
        assert (await call.desk.ok(f"/api/v1/calls/{call.uniqueid}/unhold"))["state"] == "talking"
        await hotline.events.wait_for(is_event("MusicOnHoldStop", Channel=call.caller_channel), 10, mark)
        await wait_same_bridge(hotline, mark, call.caller_channel, call.agent_channel)

        # another agent may not touch this call; unknown calls and targets are 404
        other = await agent_api.desk("agent8012")
        assert (await other.post(f"/api/v1/calls/{call.uniqueid}/hold")).status_code == 403
        assert (await call.desk.post("/api/v1/calls/1.23/hold")).status_code == 404
        unknown = await call.desk.post(f"/api/v1/calls/{call.uniqueid}/transfer", {"kind": "department", "id": "D999"})
        assert unknown.status_code == 404
        phoneless = await call.desk.post(
            f"/api/v1/calls/{call.uniqueid}/transfer", {"kind": "department", "id": "D003"}
        )
        assert phoneless.status_code == 404 and "no phone" in phoneless.json()["detail"]
        assert (await call.desk.ok(f"/api/v1/calls/{call.uniqueid}/hangup"))["state"] == "hanging_up"
        await hotline.events.wait_for(is_event("Hangup", Uniqueid=call.uniqueid), 10)


async def test_agent_hanging_up_during_hold_sends_the_caller_back_to_the_queue(
    hotline: Hotline, agent_api: AgentApi, port: int
) -> None:
    async with connected_call(hotline, agent_api, "8011", port) as call:
        mark = hotline.events.mark()
        await call.desk.ok(f"/api/v1/calls/{call.uniqueid}/hold")
        await hotline.events.wait_for(is_event("MusicOnHoldStart", Channel=call.caller_channel), 10, mark)
        mark = hotline.events.mark()
        await hotline.ami.hangup(call.agent_channel)  # the agent puts the phone down while the caller holds
        # back at the front of the queue: the dialplan's requeue step announces priority 9
        route = await hotline.events.wait_for(
            is_event("UserEvent", UserEvent="HotlineRoute", Uniqueid=call.uniqueid), 10, mark
        )
        assert (route["Queue"], route["QueuePriority"]) == ("hotline-general", "9")
        await hotline.events.wait_for(is_event("QueueCallerJoin", Uniqueid=call.uniqueid), 10, mark)
        await call.feed.wait_for(message("call", call_id=call.uniqueid, state="ended"), 5)


async def test_blind_transfer_to_a_department(hotline: Hotline, agent_api: AgentApi, port: int) -> None:
    async with connected_call(hotline, agent_api, "8013", port) as call:
        with hotline.softphone("9001", port + 5):
            mark = hotline.events.mark()
            reply = await call.desk.ok(f"/api/v1/calls/{call.uniqueid}/transfer", {"kind": "department", "id": "D001"})
            assert (reply["kind"], reply["target"]) == ("blind", "department:D001")
            transfer = await hotline.events.wait_for(is_event("BlindTransfer", Extension="9001"), 10, mark)
            assert transfer["Result"] == "Success"
            dial = await hotline.events.wait_for(
                lambda e: e.get("Event") == "DialEnd" and e.get("Channel") == call.caller_channel, 15, mark
            )
            assert dial["DialStatus"] == "ANSWER" and dial["DestChannel"].startswith("PJSIP/9001-")
            await hotline.events.wait_for(is_event("Hangup", Channel=call.agent_channel), 10, mark)
            await wait_same_bridge(hotline, mark, call.caller_channel, dial["DestChannel"])
            done = await call.feed.wait_for(message("transfer", call_id=call.uniqueid, state="completed"), 10)
            assert done["answered"] is True
            await hotline.ami.hangup(call.caller_channel)
            records = await hotline.record(call.uniqueid)
    for backend, record in records.items():
        assert (record.agent, record.transfer_target) == ("agent8013", "9001"), backend
        assert record.talk_seconds is not None and record.ended_at is not None, backend


async def test_blind_transfer_to_another_skill_queue(hotline: Hotline, agent_api: AgentApi, port: int) -> None:
    async with (
        connected_call(hotline, agent_api, "8012", port) as call,
        hotline.agent("8007", port + 5, skills={"business": 0}),
    ):
        bad = await call.desk.post(f"/api/v1/calls/{call.uniqueid}/transfer", {"kind": "queue", "id": "no-such-queue"})
        assert bad.status_code == 404
        mark = hotline.events.mark()
        await call.desk.ok(f"/api/v1/calls/{call.uniqueid}/transfer", {"kind": "queue", "id": "hotline-business"})
        route = await hotline.events.wait_for(
            is_event("UserEvent", UserEvent="HotlineRoute", Uniqueid=call.uniqueid), 10, mark
        )
        assert (route["Queue"], route["QueuePriority"]) == ("hotline-business", "5")
        join = await hotline.events.wait_for(is_event("QueueCallerJoin", Uniqueid=call.uniqueid), 10, mark)
        assert join["Queue"] == "hotline-business"
        connect = await hotline.events.wait_for(is_event("AgentConnect", Uniqueid=call.uniqueid), 20, mark)
        assert connect["MemberName"] == "agent8007"
        moved = await call.desk.post(f"/api/v1/calls/{call.uniqueid}/hold")
        assert moved.status_code == 403  # the call is agent8007's now


async def test_attended_transfer_completed(hotline: Hotline, agent_api: AgentApi, port: int) -> None:
    async with connected_call(hotline, agent_api, "8014", port) as call:
        with hotline.softphone("9001", port + 5):
            mark = hotline.events.mark()
            await call.desk.ok(f"/api/v1/calls/{call.uniqueid}/consult", {"kind": "department", "id": "D001"})
            await hotline.events.wait_for(is_event("MusicOnHoldStart", Channel=call.caller_channel), 10, mark)
            dial = await hotline.events.wait_for(
                lambda e: e.get("Event") == "DialEnd" and e.get("Channel") == call.agent_channel, 15, mark
            )
            assert dial["DialStatus"] == "ANSWER"
            await call.feed.wait_for(message("transfer", call_id=call.uniqueid, state="answered"), 10)
            await wait_same_bridge(hotline, mark, call.agent_channel, dial["DestChannel"])

            done = await call.desk.ok(f"/api/v1/calls/{call.uniqueid}/consult/complete")
            assert done["state"] == "completed"
            await wait_same_bridge(hotline, mark, call.caller_channel, dial["DestChannel"])
            await hotline.events.wait_for(is_event("Hangup", Channel=call.agent_channel), 10, mark)
            await asyncio.sleep(1)
            assert same_bridge(hotline, mark, call.caller_channel, dial["DestChannel"]), "caller and department parted"
            assert not hotline.events.matching(is_event("Hangup", Uniqueid=call.uniqueid), mark), "the caller was lost"


async def test_attended_transfer_cancelled_returns_to_the_caller(
    hotline: Hotline, agent_api: AgentApi, port: int
) -> None:
    async with connected_call(hotline, agent_api, "8015", port) as call:
        with hotline.softphone("9002", port + 5):
            mark = hotline.events.mark()
            await call.desk.ok(f"/api/v1/calls/{call.uniqueid}/consult", {"kind": "department", "id": "D002"})
            dial = await hotline.events.wait_for(
                lambda e: e.get("Event") == "DialEnd" and e.get("Channel") == call.agent_channel, 15, mark
            )
            assert dial["DialStatus"] == "ANSWER"
            await call.feed.wait_for(message("transfer", call_id=call.uniqueid, state="answered"), 10)
            early = await call.desk.post(f"/api/v1/calls/{call.uniqueid}/hold")
            assert early.status_code == 409  # consulting, not talking

            cancelled = await call.desk.ok(f"/api/v1/calls/{call.uniqueid}/consult/cancel")
            assert cancelled["state"] == "cancelled"
            await hotline.events.wait_for(is_event("Hangup", Channel=dial["DestChannel"]), 10, mark)
            await wait_same_bridge(hotline, mark, call.caller_channel, call.agent_channel)
            await call.feed.wait_for(message("call", call_id=call.uniqueid, state="talking"), 10)
            # back to normal: the agent can hold again
            assert (await call.desk.ok(f"/api/v1/calls/{call.uniqueid}/hold"))["state"] == "held"


async def test_attended_transfer_to_a_busy_phone_brings_the_agent_back(
    hotline: Hotline, agent_api: AgentApi, port: int
) -> None:
    async with connected_call(hotline, agent_api, "8016", port) as call:
        with hotline.softphone("9002", port + 5, busy=True):
            mark = hotline.events.mark()
            await call.desk.ok(f"/api/v1/calls/{call.uniqueid}/consult", {"kind": "department", "id": "D002"})
            error = await call.feed.wait_for(message("error", call_id=call.uniqueid), 15)
            assert "BUSY" in error["message"]
            failed = await call.feed.wait_for(message("transfer", call_id=call.uniqueid, state="failed"), 5)
            assert failed["reason"] == "BUSY"
            await wait_same_bridge(hotline, mark, call.caller_channel, call.agent_channel)
            assert not hotline.events.matching(is_event("Hangup", Uniqueid=call.uniqueid), mark)


async def test_three_way_call_agent_leaves_and_the_two_keep_talking(
    hotline: Hotline, agent_api: AgentApi, port: int
) -> None:
    before = REGISTRY.get_sample_value("hotline_transfers_total", {"kind": "conference", "outcome": "completed"}) or 0
    async with connected_call(hotline, agent_api, "8017", port) as call:
        with hotline.softphone("9001", port + 5):
            mark = hotline.events.mark()
            reply = await call.desk.ok(
                f"/api/v1/calls/{call.uniqueid}/conference", {"kind": "department", "id": "D001"}
            )
            assert reply["kind"] == "conference"
            room = conference_room(call.uniqueid)
            joined: set[str] = set()
            while len(joined) < 3:
                event = await hotline.events.wait_for(
                    lambda e: (
                        e.get("Event") == "ConfbridgeJoin"
                        and e.get("Conference") == room
                        and e["Channel"] not in joined
                    ),
                    15,
                    mark,
                )
                joined.add(event["Channel"])
            department = next(c for c in joined if c.startswith("PJSIP/9001-"))
            assert {call.caller_channel, call.agent_channel} < joined
            await call.feed.wait_for(message("transfer", call_id=call.uniqueid, state="completed"), 10)

            await call.desk.ok(f"/api/v1/calls/{call.uniqueid}/conference/leave")
            await hotline.events.wait_for(
                is_event("ConfbridgeLeave", Conference=room, Channel=call.agent_channel), 10, mark
            )
            await asyncio.sleep(1.5)
            members = {
                e["Channel"] for e in await hotline.ami.confbridge_list(room) if e.get("Event") == "ConfbridgeList"
            }
            assert members == {call.caller_channel, department}
    after = REGISTRY.get_sample_value("hotline_transfers_total", {"kind": "conference", "outcome": "completed"})
    assert after == before + 1  # counted for Prometheus


async def handoff_ticket(hotline: Hotline) -> str:
    return await asyncio.to_thread(_ticket_for, hotline, hotline.new_caller())


async def test_110_handoff_answered_agent_drops_and_ticket_records_it(
    hotline: Hotline, agent_api: AgentApi, port: int
) -> None:
    number = await handoff_ticket(hotline)
    async with connected_call(hotline, agent_api, "8018", port) as call:
        with Trunk(TRUNK_PORTS["110"]):
            mark = hotline.events.mark()
            room = conference_room(call.uniqueid)
            await call.desk.ok(f"/api/v1/calls/{call.uniqueid}/emergency", {"number": "110", "ticket_number": number})
            # the caller waits alone in the room, with music, while 110 rings
            await hotline.events.wait_for(
                is_event("ConfbridgeJoin", Conference=room, Channel=call.caller_channel), 10, mark
            )
            await hotline.events.wait_for(is_event("MusicOnHoldStart", Channel=call.caller_channel), 10, mark)
            police = await hotline.events.wait_for(
                lambda e: (
                    e.get("Event") == "ConfbridgeJoin" and e.get("Channel", "").startswith("PJSIP/emergency-110-")
                ),
                15,
                mark,
            )
            await hotline.events.wait_for(
                is_event("ConfbridgeJoin", Conference=room, Channel=call.agent_channel), 10, mark
            )
            await hotline.events.wait_for(
                is_event("ConfbridgeLeave", Conference=room, Channel=call.agent_channel), 10, mark
            )
            await call.feed.wait_for(message("transfer", call_id=call.uniqueid, state="completed"), 10)
            await asyncio.sleep(1)
            members = {
                e["Channel"] for e in await hotline.ami.confbridge_list(room) if e.get("Event") == "ConfbridgeList"
            }
            assert members == {call.caller_channel, police["Channel"]}
    ticket = await _wait_for_handoff(hotline, number)
    handoff = ticket.handoffs[0]
    assert (handoff.number, handoff.by_user, handoff.direct, handoff.answered) == ("110", "agent8018", False, True)
    assert handoff.requested_at <= handoff.answered_at


async def test_110_handoff_unanswered_caller_comes_back_to_the_agent(
    hotline: Hotline, agent_api: AgentApi, port: int
) -> None:
    number = await handoff_ticket(hotline)
    async with connected_call(hotline, agent_api, "8019", port) as call:
        with Trunk(TRUNK_PORTS["110"], busy=True):
            mark = hotline.events.mark()
            room = conference_room(call.uniqueid)
            await call.desk.ok(f"/api/v1/calls/{call.uniqueid}/emergency", {"number": "110", "ticket_number": number})
            error = await call.feed.wait_for(message("error", call_id=call.uniqueid), 15)
            assert "110" in error["message"] and "back with the caller" in error["message"]
            await hotline.events.wait_for(
                is_event("ConfbridgeJoin", Conference=room, Channel=call.agent_channel), 10, mark
            )
            members = {
                e["Channel"] for e in await hotline.ami.confbridge_list(room) if e.get("Event") == "ConfbridgeList"
            }
            assert members == {call.caller_channel, call.agent_channel}
    ticket = await _wait_for_handoff(hotline, number)
    handoff = ticket.handoffs[0]
    assert (handoff.number, handoff.answered, handoff.by_user) == ("110", False, "agent8019")
    assert handoff.failure in ("BUSY", "CONGESTION", "NOANSWER", "FAILED")
    with hotline.databases["sqlite"]() as session:
        notes = [row.note or "" for row in audit_trail(session, number) if row.action == "record_handoff"]
    assert notes and "did not answer" in notes[0]


async def test_direct_110_transfer_answered(hotline: Hotline, agent_api: AgentApi, port: int) -> None:
    number = await handoff_ticket(hotline)
    async with connected_call(hotline, agent_api, "8020", port) as call:
        with Trunk(TRUNK_PORTS["110"]):
            mark = hotline.events.mark()
            await call.desk.ok(
                f"/api/v1/calls/{call.uniqueid}/emergency", {"number": "110", "direct": True, "ticket_number": number}
            )
            dial = await hotline.events.wait_for(
                lambda e: e.get("Event") == "DialEnd" and e.get("Channel") == call.caller_channel, 15, mark
            )
            assert dial["DialStatus"] == "ANSWER" and dial["DestChannel"].startswith("PJSIP/emergency-110-")
            await call.feed.wait_for(message("transfer", call_id=call.uniqueid, state="completed"), 10)
    ticket = await _wait_for_handoff(hotline, number)
    assert (ticket.handoffs[0].direct, ticket.handoffs[0].answered) == (True, True)


async def _wait_for_handoff(hotline: Hotline, number: str):
    for _ in range(50):
        with hotline.databases["sqlite"]() as session:
            ticket = load_ticket(session, number)
        if ticket is not None and ticket.handoffs:
            return ticket
        await asyncio.sleep(0.1)
    raise AssertionError(f"ticket {number} has no handoff recorded")
