"""Admin-edited IVR flows on the real Asterisk: publishing without a restart (calls in progress keep
their version), menus by DTMF, ticket status by keys, holiday routing, the callback offer that keeps
a caller's place, and invalid flows rejected. Its own FastAGI server and database, so the versions
published here do not reach other tests' calls."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime

import pytest
import yaml
from sqlalchemy.orm import Session, sessionmaker

from domain.tickets import SHANGHAI, AuditEntry, Channel, RequestType, Role, Ticket, TicketStatus
from hotline.flows import build_ivr_admin
from hotline.system import build_agi_server
from ivr.engine import ticket_status_text
from ivr.validation import InvalidFlow
from services.calendar import WorkingCalendars
from services.ivr_versions import IvrAdmin
from services.kept_place import follow_kept_places
from storage.callbacks import load_callback
from storage.database import make_engine, make_session_factory
from storage.migrate import upgrade_database
from storage.tickets import insert_ticket, next_ticket_number
from telephony.prompts import text_sound
from tests.calendars import deadlines_of
from tests.integration.conftest import CARRIER_PORT, Hotline
from tests.integration.events import is_event
from tests.integration.sip_peers import Trunk

pytestmark = pytest.mark.integration

IVR_AGI_PORT = 14576


@dataclass
class IvrRig:
    admin: IvrAdmin
    sessions: sessionmaker[Session]
    agi_url: str

    def publish(self, flow: dict) -> int:
        version, errors = self.admin.draft(yaml.safe_dump(flow, allow_unicode=True), "admin-test")
        assert errors == []
        self.admin.publish(version.number, "admin-test")
        return version.number


@pytest.fixture(scope="module")
async def ivr(hotline: Hotline, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[IvrRig]:
    url = f"sqlite:///{tmp_path_factory.mktemp('ivr') / 'hotline.db'}"
    upgrade_database(url)
    settings = hotline.settings.model_copy(update={"database_url": url, "agi_port": IVR_AGI_PORT})
    sessions = make_session_factory(make_engine(url))
    # The admin's calendar service is not the FastAGI server's: an import reaches calls through the database.
    server = build_agi_server(settings, sessions, WorkingCalendars(sessions), hotline.cti.board)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    kept_places = asyncio.create_task(follow_kept_places(hotline.ami.subscribe(), sessions))
    yield IvrRig(build_ivr_admin(settings, sessions), sessions, settings.agi_url)
    kept_places.cancel()
    server.shutdown()


def menu_flow(prompt: str, choice_queue: str) -> dict:
    return {
        "version": 1,
        "start": "menu",
        "prompts": {"menu": prompt, "again": "输入有误，请重新选择。"},
        "nodes": {
            "menu": {
                "type": "menu",
                "prompt": "menu",
                "options": {"1": "chosen"},
                "invalid_prompt": "again",
                "timeout_seconds": 15,
                "retries": 2,
                "fallback": "general",
            },
            "chosen": {"type": "queue", "queue": choice_queue},
            "general": {"type": "queue", "queue": "hotline-general"},
        },
    }


def sound(text: str) -> str:
    return text_sound(text)[1]


def agi_command(uniqueid: str, command: str):
    return lambda e: (
        e.get("Event") == "AGIExecStart" and e.get("Uniqueid") == uniqueid and e.get("Command", "").startswith(command)
    )


def route_of(uniqueid: str):
    return is_event("UserEvent", UserEvent="HotlineRoute", Uniqueid=uniqueid)


async def call(hotline: Hotline, ivr: IvrRig, caller: str | None = None, hold: int = 40) -> tuple[str, str]:
    return await hotline.call(caller or hotline.new_caller(), hold_seconds=hold, HOTLINE_AGI_URL=ivr.agi_url)


async def keys(hotline: Hotline, channel: str, digits: str) -> None:
    for digit in digits:
        await hotline.ami.play_dtmf(channel, digit)


async def until_live() -> None:
    """A publish is live for the next call once the FastAGI server's check (every second) saw it."""
    await asyncio.sleep(1.5)


async def test_publish_changes_the_next_call_while_a_call_in_progress_keeps_its_version(
    hotline: Hotline, ivr: IvrRig
) -> None:
    first = ivr.publish(menu_flow("业务咨询请按一。", "hotline-business"))
    await until_live()
    old_id, old_end = await call(hotline, ivr)
    await hotline.events.wait_for(agi_command(old_id, f"GET OPTION {sound('业务咨询请按一。')}"), timeout=15)

    second = ivr.publish(menu_flow("领导信箱请按一。", "hotline-leaders"))
    await until_live()
    new_id, new_end = await call(hotline, ivr)
    await hotline.events.wait_for(agi_command(new_id, f"GET OPTION {sound('领导信箱请按一。')}"), timeout=15)

    # The older call, still in its menu, presses a key that is no option first: told so, asked again.
    since = hotline.events.mark()
    await keys(hotline, old_end, "5")
    await hotline.events.wait_for(agi_command(old_id, f"STREAM FILE {sound('输入有误，请重新选择。')}"), 10, since)
    await hotline.events.wait_for(agi_command(old_id, f"GET OPTION {sound('业务咨询请按一。')}"), 10, since)
    await keys(hotline, old_end, "1")
    await keys(hotline, new_end, "1")
    old = await hotline.events.wait_for(route_of(old_id), timeout=15)
    new = await hotline.events.wait_for(route_of(new_id), timeout=15)

    assert (old["Queue"], old["Version"], old["Path"]) == ("hotline-business", str(first), "menu>chosen")
    assert (new["Queue"], new["Version"], new["Path"]) == ("hotline-leaders", str(second), "menu>chosen")
    assert old["Fallback"] == new["Fallback"] == "no"


def ticket_flow() -> dict:
    return {
        "version": 1,
        "start": "lookup",
        "prompts": {"ask": "请输入十三位工单号。", "missing": "没有查到这个工单号。", "bye": "感谢来电，再见。"},
        "nodes": {
            "lookup": {
                "type": "ticket_status",
                "prompt": "ask",
                "timeout_seconds": 10,
                "retries": 0,
                "next": "bye",
                "not_found": "missing",
                "failed": "general",
            },
            "missing": {"type": "play", "prompt": "missing", "next": "general"},
            "bye": {"type": "play", "prompt": "bye", "next": "done"},
            "done": {"type": "hangup"},
            "general": {"type": "queue", "queue": "hotline-general"},
        },
    }


def stored_ticket(sessions: sessionmaker[Session]) -> str:
    now = datetime.now(UTC)
    with sessions.begin() as session:
        number = next_ticket_number(session, now.astimezone(SHANGHAI).date())
        ticket = Ticket(
            number=number,
            request_type=RequestType.HELP,
            channel=Channel.PHONE,
            content="路灯坏了",
            created_at=now,
            status=TicketStatus.DISPATCHED,
        )
        entry = AuditEntry(number, now, "agent1", Role.AGENT, "create", None, TicketStatus.DISPATCHED, "")
        insert_ticket(session, ticket, entry, deadlines_of(ticket))
    return number


async def test_a_caller_keys_a_ticket_number_and_hears_its_status(hotline: Hotline, ivr: IvrRig) -> None:
    number = await asyncio.to_thread(stored_ticket, ivr.sessions)
    ivr.publish(ticket_flow())
    await until_live()

    known_id, known_end = await call(hotline, ivr)
    await hotline.events.wait_for(agi_command(known_id, "GET DATA"), timeout=15)
    await keys(hotline, known_end, number)
    said = await hotline.events.wait_for(agi_command(known_id, "STREAM FILE hotline/t-"), timeout=15)
    known = await hotline.events.wait_for(route_of(known_id), timeout=20)

    unknown_id, unknown_end = await call(hotline, ivr)
    await hotline.events.wait_for(agi_command(unknown_id, "GET DATA"), timeout=15)
    await keys(hotline, unknown_end, "2000010100001")
    missing = await hotline.events.wait_for(agi_command(unknown_id, "STREAM FILE hotline/t-"), timeout=15)
    unknown = await hotline.events.wait_for(route_of(unknown_id), timeout=20)

    assert said["Command"].split()[2] == sound(ticket_status_text(number, "已派单"))
    assert (known["Action"], known["Path"]) == ("hangup", "lookup>bye>done")
    assert missing["Command"].split()[2] == sound("没有查到这个工单号。")
    assert (unknown["Action"], unknown["Queue"], unknown["Path"]) == (
        "queue",
        "hotline-general",
        "lookup>missing>general",
    )


def holiday_flow(closed: list[date]) -> dict:
    return {
        "version": 1,
        "start": "holiday",
        "prompts": {},
        "nodes": {
            "holiday": {
                "type": "condition",
                "test": "holiday",
                "closed_dates": closed,
                "then": "holiday_desk",
                "else": "general",
            },
            "holiday_desk": {"type": "queue", "queue": "hotline-leaders"},
            "general": {"type": "queue", "queue": "hotline-general"},
        },
    }


LOCAL_CLOSURE = """year: {year}
scope: local
notice: 市政府关于台风期间停止办公的通知
holidays:
  - name: 台风停工
    days_off: {day}
"""


async def test_holiday_routing_follows_the_working_calendar_and_an_imported_closed_day(
    hotline: Hotline, ivr: IvrRig
) -> None:
    today = datetime.now(SHANGHAI).date()
    calendars = WorkingCalendars(ivr.sessions)
    working_today = calendars.is_workday(today)

    ivr.publish(holiday_flow([today]))  # the flow's own closed dates
    await until_live()
    flow_closed_id, _ = await call(hotline, ivr)
    by_flow = await hotline.events.wait_for(route_of(flow_closed_id), timeout=15)

    ivr.publish(holiday_flow([]))
    await until_live()
    calendar_id, _ = await call(hotline, ivr)
    by_calendar = await hotline.events.wait_for(route_of(calendar_id), timeout=15)

    # A typhoon: the city closes today, entered as data; no flow change, no restart.
    calendars.enter(LOCAL_CLOSURE.format(year=today.year, day=today.isoformat()), "typhoon.yaml", "admin-test")
    closed_id, _ = await call(hotline, ivr)
    by_closure = await hotline.events.wait_for(route_of(closed_id), timeout=15)

    holiday_way, working_way = ("hotline-leaders", "holiday>holiday_desk"), ("hotline-general", "holiday>general")
    assert (by_flow["Queue"], by_flow["Path"]) == holiday_way
    assert (by_calendar["Queue"], by_calendar["Path"]) == (working_way if working_today else holiday_way)
    assert (by_closure["Queue"], by_closure["Path"]) == holiday_way


def keep_place_flow() -> dict:
    return {
        "version": 1,
        "start": "offer",
        "prompts": {"offer": "如需保留排队位置并由我们回电，请按二。", "thanks": "已为您保留排队位置，再见。"},
        "nodes": {
            "offer": {
                "type": "callback_offer",
                "prompt": "offer",
                "accept_key": "2",
                "timeout_seconds": 3,
                "queue": "hotline-general",
                "accepted": "thanks",
                "declined": "general",
                "failed": "general",
            },
            "thanks": {"type": "play", "prompt": "thanks", "next": "done"},
            "done": {"type": "hangup"},
            "general": {"type": "queue", "queue": "hotline-general"},
        },
    }


def queue_entries(status: list) -> list[tuple[str, str]]:
    return [
        (e["Position"], e["CallerIDNum"])
        for e in status
        if e.get("Event") == "QueueEntry" and e.get("Queue") == "hotline-general"
    ]


async def test_callback_offer_keeps_the_place_and_calls_back_when_an_agent_is_free(
    hotline: Hotline, ivr: IvrRig, port: int
) -> None:
    ivr.publish(keep_place_flow())
    await until_live()
    keeper, later = hotline.new_caller(), hotline.new_caller()
    since = hotline.events.mark()

    keeper_id, keeper_end = await call(hotline, ivr, keeper)
    await hotline.events.wait_for(agi_command(keeper_id, "GET OPTION"), timeout=15)
    await keys(hotline, keeper_end, "2")
    waiting = await hotline.events.wait_for(is_event("UserEvent", UserEvent="HotlineCallbackWaiting"), 15, since)
    await hotline.events.wait_for(is_event("Hangup", Uniqueid=keeper_id), timeout=20)  # the caller hung up
    later_id, _ = await call(hotline, ivr, later, hold=60)  # declines the offer, queues behind the kept place
    await hotline.events.wait_for(is_event("QueueCallerJoin", Uniqueid=later_id), timeout=20)
    entries = queue_entries(await hotline.ami.queue_status())

    with Trunk(CARRIER_PORT):
        async with hotline.agent("8014", port):  # an agent becomes free: the kept place is first
            connect = await hotline.events.wait_for(is_event("AgentConnect", Queue="hotline-general"), 30, since)
            out = await hotline.events.wait_for(
                lambda e: e.get("Event") == "DialBegin" and e.get("DestChannel", "").startswith("PJSIP/carrier-"),
                timeout=20,
                since=since,
            )
            dialled = await hotline.events.wait_for(is_event("DialEnd", DestChannel=out["DestChannel"]), 20, since)
            await hotline.ami.hangup(dialled["DestChannel"])
            ended = await hotline.events.wait_for(is_event("UserEvent", UserEvent="HotlineCallbackEnded"), 15, since)

    task = await asyncio.to_thread(lambda: _task(ivr.sessions, int(waiting["CallbackId"])))
    for _ in range(50):  # the outcome is recorded from the HotlineCallbackEnded event
        if task.status == "done":
            break
        await asyncio.sleep(0.1)
        task = await asyncio.to_thread(lambda: _task(ivr.sessions, int(waiting["CallbackId"])))
    assert entries == [("1", keeper), ("2", later)]
    assert connect["Channel"].startswith("Local/s@hotline-callback-place") and connect["CallerIDNum"] == keeper
    assert (out["DialString"], out["CallerIDNum"], dialled["DialStatus"]) == (f"{keeper}@carrier", "12345", "ANSWER")
    assert ended["CallbackId"] == waiting["CallbackId"]
    assert (task.reason, task.caller_number, task.call_uniqueid, task.queue) == (
        "kept_place",
        keeper,
        keeper_id,
        "hotline-general",
    )
    assert (task.status, [a.outcome for a in task.attempts]) == ("done", ["answered"])


def _task(sessions: sessionmaker[Session], task_id: int):
    with sessions() as session:
        return load_callback(session, task_id)


async def test_an_invalid_flow_is_rejected_with_its_errors_and_calls_keep_the_live_version(
    hotline: Hotline, ivr: IvrRig
) -> None:
    live = ivr.publish(menu_flow("业务咨询请按一。", "hotline-business"))
    broken = menu_flow("业务咨询请按一。", "hotline-nowhere")
    broken["nodes"]["menu"]["fallback"] = "menu"  # a loop without caller input
    version, errors = ivr.admin.draft(yaml.safe_dump(broken, allow_unicode=True), "admin-test")
    with pytest.raises(InvalidFlow) as rejected:
        ivr.admin.publish(version.number, "admin-test")
    await until_live()
    uniqueid, caller_end = await call(hotline, ivr)
    await hotline.events.wait_for(agi_command(uniqueid, "GET OPTION"), timeout=15)
    await keys(hotline, caller_end, "1")
    route = await hotline.events.wait_for(route_of(uniqueid), timeout=15)

    wheres = {e.where for e in errors}
    assert wheres == {e.where for e in rejected.value.errors}
    assert {"nodes.chosen.queue", "nodes.menu"} <= wheres
    assert any("hotline-nowhere" in e.problem for e in errors)
    assert (now_live := ivr.admin.live()) is not None
    assert (now_live.number, route["Version"], route["Queue"]) == (live, str(live), "hotline-business")
