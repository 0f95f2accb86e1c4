"""The re-read of agent and queue state after an AMI (re)connect: an error reply is an error at once,
and a re-read that fails is tried again until it succeeds.

Asterisk takes AMI logins while it boots, before app_queue is loaded, and answers QueueStatus then
with "Invalid/unknown command" (measured on the tests' Asterisk 22: Login accepted and that error
~0.1 s before FullyBooted). The peer below is a scripted AMI server on loopback that answers the
first QueueStatus that way, so the real AmiClient (panoramisk) and the CTI event follower meet what a client
reconnecting during an Asterisk restart meets."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Mapping

import pytest

from domain.agents import QueueBoard
from telephony import event_follower
from telephony.ami import AmiClient, AmiError, AmiUnavailable
from telephony.cti import Cti, build_cti
from telephony.cti_config import CtiConfig, CtiHooks

UNKNOWN = "Invalid/unknown command: QueueStatus. Use Action: ListCommands to show available commands."
MEMBER = {
    "Event": "QueueMember",
    "Queue": "hotline-general",
    "Name": "agent8010",
    "Location": "PJSIP/8010",
    "StateInterface": "PJSIP/8010",
    "Membership": "dynamic",
    "Penalty": "0",
    "CallsTaken": "0",
    "LastCall": "0",
    "LastPause": "0",
    "InCall": "0",
    "Status": "1",
    "Paused": "1",
    "PausedReason": "meal",
    "Wrapuptime": "0",
}


def _frame(fields: Mapping[str, str]) -> bytes:
    return "".join(f"{k}: {v}\r\n" for k, v in fields.items()).encode() + b"\r\n"


class BootingAsterisk:
    """An AMI peer on loopback: accepts the login, answers the first `errors` QueueStatus actions
    with Asterisk's "Invalid/unknown command" (app_queue not loaded yet), the later ones with
    the member list as Asterisk 22 does (listack, QueueParams, QueueMember, Complete)."""

    def __init__(self, errors: int):
        self.errors = errors
        self.queue_status_asked = 0
        self.server: asyncio.Server | None = None

    async def start(self) -> int:
        self.server = await asyncio.start_server(self._session, "127.0.0.1", 0)
        return self.server.sockets[0].getsockname()[1]

    async def _session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"Asterisk Call Manager/11.0.0\r\n")
        try:
            while True:
                raw = await reader.readuntil(b"\r\n\r\n")
                action = dict(line.split(": ", 1) for line in raw.decode().strip().split("\r\n") if ": " in line)
                writer.write(self._answer(action))
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    def _answer(self, action: dict[str, str]) -> bytes:
        name, action_id = action.get("Action", "").lower(), action.get("ActionID", "")
        if name == "login":
            return _frame({"Response": "Success", "ActionID": action_id, "Message": "Authentication accepted"})
        if name != "queuestatus":
            return _frame({"Response": "Success", "ActionID": action_id, "Ping": "Pong"})
        self.queue_status_asked += 1
        if self.queue_status_asked <= self.errors:
            return _frame({"Response": "Error", "ActionID": action_id, "Message": UNKNOWN})
        return b"".join(
            [
                _frame(
                    {
                        "Response": "Success",
                        "ActionID": action_id,
                        "EventList": "start",
                        "Message": "Queue status will follow",
                    }
                ),
                _frame(
                    {
                        "Event": "QueueParams",
                        "Queue": "hotline-general",
                        "Max": "0",
                        "Calls": "0",
                        "ActionID": action_id,
                    }
                ),
                _frame({**MEMBER, "ActionID": action_id}),
                _frame(
                    {"Event": "QueueStatusComplete", "ActionID": action_id, "EventList": "Complete", "ListItems": "2"}
                ),
            ]
        )

    def close(self) -> None:
        if self.server is not None:
            self.server.close()


@pytest.fixture
async def booting() -> AsyncIterator[BootingAsterisk]:
    peer = BootingAsterisk(errors=1)
    yield peer
    peer.close()


@pytest.fixture(autouse=True)
def quick_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(event_follower, "RESYNC_RETRY_SECONDS", (0.05, 0.1))


def _service(ami) -> tuple[Cti, list[tuple[str, dict]]]:
    published: list[tuple[str, dict]] = []
    config = CtiConfig(
        agent_extensions=frozenset({"8010", "8011"}),
        skill_queues={"general": "hotline-general", "business": "hotline-business"},
        queues=frozenset({"hotline-general", "hotline-business"}),
        emergency_numbers=frozenset(),
        default_skills={"general": 0},
    )
    service = build_cti(
        ami,
        QueueBoard(config.wrapup_seconds),
        config,
        CtiHooks(department_phone=lambda _: None),
        lambda audience, message: published.append((audience, message)),
    )
    return service, published


async def _until(check, timeout: float = 3.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.01)


def _resynced(published: list[tuple[str, dict]]) -> list[str]:
    return [audience for audience, m in published if m.get("type") == "telephony" and m.get("resynced")]


async def test_an_error_reply_to_a_list_action_is_an_error_at_once(booting: BootingAsterisk) -> None:
    # panoramisk with as_list=True never completes an action whose only reply is an error: the
    # caller waited out the whole timeout and reported "did not answer".
    ami = AmiClient("127.0.0.1", await booting.start(), "hotline", "secret")
    await ami.connect(timeout=3)
    try:
        with pytest.raises(AmiError, match="Invalid/unknown command") as raised:
            await ami.action_list({"Action": "QueueStatus"}, timeout=5)
        assert not isinstance(raised.value, AmiUnavailable)  # waiting out the timeout raises AmiUnavailable
        members = [e for e in await ami.queue_status() if e.get("Event") == "QueueMember"]
        assert [(m["Location"], m["PausedReason"]) for m in members] == [("PJSIP/8010", "meal")]
    finally:
        ami.close()


async def test_state_is_re_read_when_asterisk_answers_queue_status_only_later(booting: BootingAsterisk) -> None:
    """The Asterisk-restart case: logged in while Asterisk boots, the first re-read fails."""
    ami = AmiClient("127.0.0.1", await booting.start(), "hotline", "secret")
    events = ami.subscribe()
    service, published = _service(ami)
    running = asyncio.create_task(service.follower.run(events))
    try:
        await ami.connect(timeout=3)
        await _until(lambda: service.board.agent_for_user("agent8010") is not None)
        assert booting.queue_status_asked == 2
        view = service.agents.view("agent8010")
        assert (view["presence"], view["pause_reason"]) == ("paused", "meal")
        assert _resynced(published) == ["user:agent8010", "supervisors"]
    finally:
        running.cancel()
        ami.close()


class ScriptedAmi:
    """An AmiClient stand-in whose QueueStatus answers come from a script: an exception to raise
    or a list of events to return."""

    def __init__(self, *answers: Exception | list[dict[str, str]]):
        self.answers = list(answers)
        self.connected = True
        self.asked = 0

    async def queue_status(self) -> list[dict[str, str]]:
        self.asked += 1
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


async def test_a_re_read_that_times_out_is_retried_while_other_events_are_handled() -> None:
    timeout = AmiUnavailable("Asterisk did not answer AMI QueueStatus within 10 s")
    ami = ScriptedAmi(timeout, timeout, [MEMBER])
    service, published = _service(ami)
    events: asyncio.Queue[Mapping[str, str]] = asyncio.Queue()
    running = asyncio.create_task(service.follower.run(events))
    try:
        events.put_nowait({"Event": "HotlineAmiConnected"})
        events.put_nowait(
            {
                "Event": "QueueMemberAdded",
                "Queue": "hotline-business",
                "MemberName": "agent8011",
                "Interface": "PJSIP/8011",
                "Penalty": "0",
                "Paused": "0",
                "PausedReason": "",
                "Status": "1",
                "LastCall": "0",
            }
        )
        await _until(lambda: service.board.agent_for_user("agent8011") is not None)  # not held up by the retry
        await _until(lambda: bool(_resynced(published)))
        assert ami.asked == 3
        assert service.agents.view("agent8010")["pause_reason"] == "meal"
        await asyncio.sleep(0.3)
        assert ami.asked == 3, "re-read again after it succeeded"
    finally:
        running.cancel()


async def test_a_re_read_failed_because_ami_dropped_waits_for_the_reconnect() -> None:
    ami = ScriptedAmi(AmiUnavailable("Asterisk is not reachable over AMI"), [MEMBER])
    service, published = _service(ami)
    events: asyncio.Queue[Mapping[str, str]] = asyncio.Queue()
    running = asyncio.create_task(service.follower.run(events))
    try:
        ami.connected = False  # dropped between the login and the QueueStatus
        events.put_nowait({"Event": "HotlineAmiConnected"})
        await _until(lambda: ami.asked == 1)
        await asyncio.sleep(0.3)
        assert ami.asked == 1, "QueueStatus retried while AMI was down"
        ami.connected = True
        events.put_nowait({"Event": "HotlineAmiConnected"})  # what AmiClient sends on the next login
        await _until(lambda: bool(_resynced(published)))
        assert service.board.agent_for_user("agent8010") is not None
    finally:
        running.cancel()
