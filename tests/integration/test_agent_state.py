"""Agent state on app_queue over AMI, pushed to desktops: login with skills, pause with reasons,
wrap-up, screen-pop, the wallboard, resync after an API restart, and AMI down."""

from __future__ import annotations

import asyncio
import subprocess
from datetime import UTC, datetime

import httpx
import pytest

from agent_api.app import create_app
from agent_api.context import ApiContext
from domain.agents import QueueBoard
from domain.tickets import SHANGHAI, AuditEntry, Channel, RequestType, Role, Ticket
from hotline.system import cti_config
from storage.tickets import insert_ticket, next_ticket_number
from telephony.ami import AmiClient
from telephony.cti import build_cti
from tests.calendars import deadlines_of
from tests.integration.conftest import ASTERISK, AgentApi, Hotline
from tests.integration.desk import message
from tests.integration.events import is_event

pytestmark = pytest.mark.integration


async def test_login_with_skills_pause_with_reason_and_logout(hotline: Hotline, agent_api: AgentApi, port: int) -> None:
    desk = await agent_api.desk("agent8006")
    since = hotline.events.mark()
    with hotline.softphone("8006", port):
        state = await desk.ok("/api/v1/agent/login", {"extension": "8006", "skills": {"general": 0, "business": 5}})
        assert state["presence"] == "available"
        assert state["queues"] == {"hotline-general": 0, "hotline-business": 5}
        added = hotline.events.matching(
            lambda e: e.get("Event") == "QueueMemberAdded" and e.get("Interface") == "PJSIP/8006", since
        )
        assert {(e["Queue"], e["Penalty"], e["MemberName"]) for e in added} == {
            ("hotline-general", "0", "agent8006"),
            ("hotline-business", "5", "agent8006"),
        }

        paused = await desk.ok("/api/v1/agent/pause", {"reason": "training"})
        assert (paused["presence"], paused["pause_reason"]) == ("paused", "training")
        event = await hotline.events.wait_for(
            is_event("QueueMemberPause", Interface="PJSIP/8006", Paused="1"), 5, since
        )
        assert event["PausedReason"] == "training"

        bad = await desk.post("/api/v1/agent/pause", {"reason": "nap"})
        assert bad.status_code == 422
        taken = await (await agent_api.desk("agent8007")).post("/api/v1/agent/login", {"extension": "8006"})
        assert taken.status_code == 409 and "agent8006" in taken.json()["detail"]
        unknown = await desk.post("/api/v1/agent/login", {"extension": "8006", "skills": {"cooking": 0}})
        assert unknown.status_code == 422

        assert (await desk.ok("/api/v1/agent/unpause"))["presence"] == "available"
        out = await desk.ok("/api/v1/agent/logout")
        assert out == {"logged_in": False, "user": "agent8006"}
    removed = hotline.events.matching(
        lambda e: e.get("Event") == "QueueMemberRemoved" and e.get("Interface") == "PJSIP/8006", since
    )
    assert {e["Queue"] for e in removed} == {"hotline-general", "hotline-business"}


def _ticket_for(hotline: Hotline, caller: str) -> str:
    with hotline.databases["sqlite"].begin() as session:
        now = datetime.now(UTC)
        number = next_ticket_number(session, now.astimezone(SHANGHAI).date())
        ticket = Ticket(number, RequestType.COMPLAINT, Channel.PHONE, "楼下烧烤店油烟扰民", now, caller_number=caller)
        insert_ticket(
            session,
            ticket,
            AuditEntry(number, now, "agent8001", Role.AGENT, "create", None, ticket.status, ""),
            deadlines_of(ticket),
        )
    return number


async def test_paused_agent_gets_no_call_then_screen_pop_and_wrap_up(
    hotline: Hotline, agent_api: AgentApi, port: int
) -> None:
    caller = hotline.new_caller()
    earlier = await asyncio.to_thread(_ticket_for, hotline, caller)
    desk = await agent_api.desk("agent8008")
    supervisor = await agent_api.desk("supervisor1", role="supervisor")
    feed, close = await desk.live()
    board, close_board = await supervisor.live()
    try:
        with hotline.softphone("8008", port):
            await desk.ok("/api/v1/agent/login", {"extension": "8008"})
            await desk.ok("/api/v1/agent/pause", {"reason": "break"})
            uniqueid, _ = await hotline.call(caller, hold_seconds=20)
            await hotline.events.wait_for(is_event("QueueCallerJoin", Uniqueid=uniqueid), 20)
            waiting = await board.wait_for(lambda m: m.get("type") == "wallboard" and m["waiting"] >= 1, 5)
            assert waiting["queues"]["hotline-general"]["waiting"] >= 1
            assert waiting["agents"]["paused"] >= 1
            await asyncio.sleep(2)
            assert not hotline.events.matching(is_event("AgentCalled", Uniqueid=uniqueid)), "a paused agent was rung"

            await desk.ok("/api/v1/agent/unpause")
            pop = await feed.wait_for(message("screen_pop", call_id=uniqueid), 15)
            assert pop["caller"] == caller
            assert pop["ivr_path"] == "greeting>emergency_notice>barred_check>wait_check>general"
            assert [t["number"] for t in pop["previous_tickets"]] == [earlier]
            assert (pop["repeat_caller"], pop["barred"], pop["draft_ticket"]) == (True, False, None)
            await feed.wait_for(message("call", call_id=uniqueid, state="talking"), 15)

            await desk.ok(f"/api/v1/calls/{uniqueid}/hangup")
            await hotline.events.wait_for(is_event("Hangup", Uniqueid=uniqueid), 10)
            await feed.wait_for(message("call", call_id=uniqueid, state="ended"), 5)
            wrap = await desk.get("/api/v1/agent/state")
            assert wrap.json()["presence"] == "wrap_up", wrap.json()
            await asyncio.sleep(2.5)  # HOTLINE_WRAPUP_SECONDS=2 in the tests
            assert (await desk.get("/api/v1/agent/state")).json()["presence"] == "available"
            await desk.ok("/api/v1/agent/logout")
    finally:
        await close()
        await close_board()


async def test_state_is_re_read_after_an_api_restart_and_ami_down_is_503(
    hotline: Hotline, agent_api: AgentApi, port: int
) -> None:
    desk = await agent_api.desk("agent8009")
    with hotline.softphone("8009", port):
        await desk.ok("/api/v1/agent/login", {"extension": "8009", "skills": {"general": 0, "leaders": 2}})
        await desk.ok("/api/v1/agent/pause", {"reason": "meeting"})

        # A second API process starting now knows nothing but what Asterisk tells it.
        ami = AmiClient(
            "127.0.0.1", hotline.settings.ami_port, hotline.settings.ami_username, hotline.settings.ami_secret
        )
        events = ami.subscribe()
        await ami.connect()
        config = cti_config(hotline.settings)
        restarted = build_cti(ami, QueueBoard(config.wrapup_seconds), config, hotline.cti.hooks, lambda *_: None)
        running = asyncio.create_task(restarted.follower.run(events))
        try:
            for _ in range(50):
                if restarted.board.agent_for_user("agent8009"):
                    break
                await asyncio.sleep(0.1)
            view = restarted.agents.view("agent8009")
            assert view["extension"] == "8009"
            assert view["queues"] == {"hotline-general": 0, "hotline-leaders": 2}
            assert (view["presence"], view["pause_reason"]) == ("paused", "meeting")
        finally:
            running.cancel()
            ami.close()

        # Asterisk unreachable: call control answers 503 and says why.
        dead = AmiClient("127.0.0.1", 1, "nobody", "nothing")
        offline = build_cti(dead, QueueBoard(config.wrapup_seconds), config, hotline.cti.hooks, lambda *_: None)
        app = create_app(ApiContext(sessions=agent_api.sessions, health=lambda: {"asterisk": False}, cti=offline))
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://offline") as client:
            reply = await client.post(
                "/api/v1/agent/login", json={"extension": "8010"}, headers={"Authorization": f"Bearer {desk.token}"}
            )
        dead.close()
        assert reply.status_code == 503
        assert "not reachable" in reply.json()["detail"]
        await desk.ok("/api/v1/agent/logout")


async def test_asterisk_restart_agents_told_and_state_re_read(hotline: Hotline, agent_api: AgentApi, port: int) -> None:
    desk = await agent_api.desk("agent8010")
    feed, close = await desk.live()
    try:
        with hotline.softphone("8010", port):
            await desk.ok("/api/v1/agent/login", {"extension": "8010", "skills": {"general": 0, "business": 1}})
            await desk.ok("/api/v1/agent/pause", {"reason": "meal"})
            mark = len(feed.messages)
            await asyncio.to_thread(subprocess.run, [str(ASTERISK), "restart"], check=True, timeout=120)
            # Asterisk is back: AMI reconnects by itself and state is re-read within 10 s.
            await feed.wait_for(message("telephony", connected=False), 10, since=mark)
            back = await feed.wait_for(message("telephony", connected=True, resynced=True), 10, since=mark)
            state = await feed.wait_for(message("agent"), 5, since=feed.messages.index(back))
            assert state["queues"] == {"hotline-general": 0, "hotline-business": 1}
            assert (state["presence"], state["pause_reason"]) == ("paused", "meal")
            await desk.ok("/api/v1/agent/logout")
    finally:
        await close()
