"""PostgreSQL stopped for two minutes while calls come in and agents work: calls go on through an IVR
that stores into it, and everything accepted meanwhile is kept durably and written once it is back,
nothing lost and nothing twice — call records and their callback tasks, a ticket an agent records
(accepted with a receipt), a 110 handoff and a voice message with its recording, transcript, ticket
and callback. A PostgreSQL cluster of the test's own (Debian's binaries), so stopping it disturbs no one."""

from __future__ import annotations

import asyncio
import dataclasses
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from glob import glob
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from agent_api.app import create_app
from agent_api.context import ApiContext
from agent_api.passwords import hash_password
from hotline.health import database_answers
from hotline.system import record_saver
from services.calendar import WorkingCalendars
from services.call_context import build_cti_hooks
from services.ticket_intake import TicketBacklog, TicketIntake
from storage.callbacks import list_callbacks
from storage.database import make_engine, make_session_factory
from storage.migrate import upgrade_database
from storage.speech import transcripts_of_call
from storage.spool import DurableSpool
from storage.tables import CallbackTaskRow, CallRecordRow, TicketRow
from storage.tickets import audit_trail, load_ticket
from storage.users import create_user
from telephony.call_events import CallRecorder
from tests.integration.conftest import TRUNK_PORTS, Hotline, speech_rig
from tests.integration.events import Event, is_event
from tests.integration.sip_peers import Trunk
from tests.integration.test_speech import SENTENCE, leave_voice_message

pytestmark = pytest.mark.integration

PORT = 15432
DOWN_SECONDS = 120
AUDIOSOCKET_PORT, AGI_PORT = 14577, 14578  # this test's speech path and IVR, storing into its PostgreSQL


@dataclass
class PrivatePostgres:
    data: Path
    bin: Path

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{PORT}/postgres?connect_timeout=2"

    def _as_postgres(self, *args: str) -> None:
        subprocess.run(["runuser", "-u", "postgres", "--", *args], check=True, capture_output=True, timeout=120)

    def start(self) -> None:
        options = f"-p {PORT} -k {self.data} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._as_postgres(
            str(self.bin / "pg_ctl"),
            "-D",
            str(self.data / "db"),
            "-o",
            options,
            "-l",
            str(self.data / "log"),
            "-w",
            "start",
        )

    def stop(self) -> None:
        self._as_postgres(str(self.bin / "pg_ctl"), "-D", str(self.data / "db"), "-m", "fast", "-w", "stop")


@pytest.fixture(scope="module")
def postgres() -> Iterator[PrivatePostgres]:
    data = Path(tempfile.mkdtemp(prefix="hotline-pg-"))
    shutil.chown(data, "postgres", "postgres")
    cluster = PrivatePostgres(data, Path(sorted(glob("/usr/lib/postgresql/*/bin"))[-1]))
    cluster._as_postgres(str(cluster.bin / "initdb"), "-D", str(data / "db"), "-A", "trust", "-U", "postgres")
    cluster.start()
    try:
        upgrade_database(cluster.url)
        yield cluster
    finally:
        subprocess.run(
            [
                "runuser",
                "-u",
                "postgres",
                "--",
                str(cluster.bin / "pg_ctl"),
                "-D",
                str(data / "db"),
                "-m",
                "immediate",
                "stop",
            ],
            capture_output=True,
            timeout=60,
        )
        shutil.rmtree(data, ignore_errors=True)


def stored(sessions: sessionmaker[Session], uniqueids: list[str]) -> tuple[dict[str, int], dict[str, list[str]]]:
    """How many call records each call has, and the reasons of its callback tasks."""
    with sessions() as session:
        records = dict(
            session.execute(
                select(CallRecordRow.uniqueid, func.count())
                .where(CallRecordRow.uniqueid.in_(uniqueids))
                .group_by(CallRecordRow.uniqueid)
            ).all()
        )
        tasks: dict[str, list[str]] = {}
        for call, reason in session.execute(
            select(CallbackTaskRow.call_uniqueid, CallbackTaskRow.reason).where(
                CallbackTaskRow.call_uniqueid.in_(uniqueids)
            )
        ):
            assert call is not None  # only tasks of these calls are selected
            tasks.setdefault(call, []).append(reason)
    return records, tasks


def tickets_with_receipt(sessions: sessionmaker[Session], receipt: str) -> list[str]:
    with sessions() as session:
        return list(session.scalars(select(TicketRow.number).where(TicketRow.receipt == receipt)))


def voice_message(sessions: sessionmaker[Session], uniqueid: str):
    """The call's transcripts, the tickets made of it and its callback tasks."""
    with sessions() as session:
        transcripts = transcripts_of_call(session, uniqueid)
        numbers = session.scalars(
            select(TicketRow.number).where(TicketRow.state["call_uniqueid"].as_string() == uniqueid)
        )
        tickets = [load_ticket(session, n) for n in numbers]
        tasks = [t for t in list_callbacks(session) if t.call_uniqueid == uniqueid]
    return transcripts, tickets, tasks


async def give_up_in_the_queue(hotline: Hotline, agi_url: str) -> tuple[str, Event]:
    """A caller who goes through the IVR, waits in the queue and hangs up; returns its uniqueid and route."""
    uniqueid, _ = await hotline.call(hotline.new_caller(), hold_seconds=50, HOTLINE_AGI_URL=agi_url)
    route = await hotline.events.wait_for(is_event("UserEvent", UserEvent="HotlineRoute", Uniqueid=uniqueid), 45)
    return uniqueid, route


async def ok(request) -> dict:
    reply = await request
    assert reply.status_code == 200, reply.text
    return reply.json()


async def next_message(desktop: asyncio.Queue[dict], expected: dict, timeout: float = 10) -> dict:
    """The next live message for the desktop with the fields `expected` (others are passed over)."""
    async with asyncio.timeout(timeout):
        while True:
            got = await desktop.get()
            if all(got.get(k) == v for k, v in expected.items()):
                return got


async def test_postgresql_down_for_two_minutes_loses_and_duplicates_nothing(
    hotline: Hotline, postgres: PrivatePostgres, tmp_path: Path, port: int
) -> None:
    sessions = make_session_factory(make_engine(postgres.url))
    with sessions.begin() as session:
        create_user(session, "agent-pg", hash_password("s3cret-enough"), "agent", "王")
    records_spool = DurableSpool(tmp_path / "call-records")
    intake = TicketIntake(WorkingCalendars(sessions))
    backlog = TicketBacklog(DurableSpool(tmp_path / "ticket-work"), sessions, intake)
    workers = [
        asyncio.create_task(CallRecorder(record_saver(sessions), records_spool).run(hotline.ami.subscribe())),
        asyncio.create_task(backlog.run(hotline.hub.publish)),
    ]
    desktop = hotline.hub.subscribe(["user:agent-pg"])
    app = create_app(
        ApiContext(sessions=sessions, health=lambda: {}, cti=hotline.cti, hub=hotline.hub, ticket_backlog=backlog)
    )
    api = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api")
    login = {"username": "agent-pg", "password": "s3cret-enough"}
    desk = {"Authorization": f"Bearer {(await api.post('/api/v1/auth/login', json=login)).json()['token']}"}
    ticket = {"request_type": "complaint", "content": "小区门口垃圾堆放多日无人清运"}
    urgent = (await api.post("/api/v1/tickets", json=ticket | {"urgent": True}, headers=desk)).json()["number"]
    call_control_hooks = dataclasses.replace(hotline.cti.hooks)  # a copy, put back afterwards
    # handoffs are written into this test's PostgreSQL: the running call control's hooks, changed in place
    vars(hotline.cti.hooks).update(vars(build_cti_hooks(sessions, intake, backlog)))
    try:
        (tmp_path / "speech").mkdir()
        async with speech_rig(
            hotline, sessions, tmp_path / "speech", AUDIOSOCKET_PORT, AGI_PORT, queued_callers=False
        ) as rig:
            sound, _ = rig.say("outage-message", SENTENCE)
            await asyncio.to_thread(postgres.stop)
            down_at = asyncio.get_running_loop().time()
            database_down = not await asyncio.to_thread(database_answers, sessions)

            # The agent, signed in before, keeps working: takes a call and hands the caller to 110.
            with hotline.softphone("8012", port):
                await ok(api.post("/api/v1/agent/login", json={"extension": "8012"}, headers=desk))
                handoff_call, _ = await hotline.call(hotline.new_caller(), hold_seconds=40)
                await hotline.events.wait_for(is_event("AgentConnect", Uniqueid=handoff_call), 30)
                await next_message(desktop, {"type": "call", "call_id": handoff_call, "state": "talking"})
                with Trunk(TRUNK_PORTS["110"]):
                    await ok(
                        api.post(
                            f"/api/v1/calls/{handoff_call}/emergency",
                            headers=desk,
                            json={"number": "110", "ticket_number": urgent},
                        )
                    )
                    await next_message(desktop, {"type": "transfer", "call_id": handoff_call, "state": "completed"}, 20)
                await ok(api.post("/api/v1/agent/logout", headers=desk))
            for _ in range(50):  # the handoff is written (here: kept) by a worker thread once it finished
                if handoff_kept := len(DurableSpool(tmp_path / "ticket-work").pending()):
                    break
                await asyncio.sleep(0.1)

            waiting = [asyncio.create_task(give_up_in_the_queue(hotline, rig.agi_url)) for _ in range(3)]
            message_call = await leave_voice_message(hotline, rig.agi_url, sound, hotline.new_caller())
            queued = [await w for w in waiting]
            kept = await api.post("/api/v1/tickets", json=ticket, headers=desk)
            calls = [handoff_call, message_call, *(u for u, _ in queued)]
            for uniqueid in calls:
                await hotline.events.wait_for(is_event("Hangup", Uniqueid=uniqueid), timeout=60)
            await asyncio.sleep(3)  # the transcript is made and the records reach the spool
            while_down = {
                "call records": len(records_spool.pending()),
                "ticket work": len(DurableSpool(tmp_path / "ticket-work").pending()),
                "transcripts": len(DurableSpool(rig.settings.spool_dir / "transcripts").pending()),
            }
            still_down = not await asyncio.to_thread(database_answers, sessions)
            await asyncio.sleep(max(0.0, DOWN_SECONDS - (asyncio.get_running_loop().time() - down_at)))
            await asyncio.to_thread(postgres.start)
            for _ in range(150):  # the recorder, the backlog and the transcripts retry every 2 s
                spooled = (
                    records_spool.pending(),
                    DurableSpool(tmp_path / "ticket-work").pending(),
                    DurableSpool(rig.settings.spool_dir / "transcripts").pending(),
                )
                if not any(spooled):
                    break
                await asyncio.sleep(0.2)
            stored_note = await next_message(desktop, {"type": "ticket_stored"})
            receipt = kept.json()["receipt"]
            receipt_state = (await api.get(f"/api/v1/ticket-receipts/{receipt}", headers=desk)).json()
    finally:
        vars(hotline.cti.hooks).update(vars(call_control_hooks))
        for worker in workers:
            worker.cancel()
        await api.aclose()
        hotline.hub.unsubscribe(desktop)
        if not await asyncio.to_thread(database_answers, sessions):
            await asyncio.to_thread(postgres.start)

    # Calls went on through an IVR whose database was down.
    assert (database_down, still_down) == (True, True)
    assert [r["Action"] for _, r in queued] == ["queue"] * 3
    # While down: 5 call records, the ticket and the handoff, the voice message's transcript kept.
    assert handoff_kept == 1
    assert while_down == {"call records": 5, "ticket work": 2, "transcripts": 1}
    assert kept.status_code == 202, kept.text
    assert spooled == ([], [], [])

    records, tasks = await asyncio.to_thread(stored, sessions, calls)
    assert records == {u: 1 for u in calls}  # each written once
    assert tasks == {message_call: ["voice_message"]} | {u: ["abandoned"] for u, _ in queued}

    # The kept ticket: stored once under its receipt, its time limit counted from acceptance, the agent told.
    [number] = await asyncio.to_thread(tickets_with_receipt, sessions, receipt)
    assert stored_note == {"type": "ticket_stored", "receipt": receipt, "number": number}
    assert receipt_state == {"receipt": receipt, "state": "stored", "number": number}
    with sessions() as session:
        recorded = load_ticket(session, number)
        handed_off = load_ticket(session, urgent)
        handoff_audit = [row.action for row in audit_trail(session, urgent)]
    assert recorded is not None and handed_off is not None
    assert recorded.created_at == datetime.fromisoformat(kept.json()["accepted_at"])
    assert recorded.content == ticket["content"]

    # The handoff made while the database was down is on its ticket, once.
    assert [(h.number, h.by_user, h.answered) for h in handed_off.handoffs] == [("110", "agent-pg", True)]
    assert handoff_audit == ["create", "record_handoff"]

    # The voice message: recording, transcript, ticket and callback, each once.
    transcripts, message_tickets, message_tasks = await asyncio.to_thread(voice_message, sessions, message_call)
    [transcript] = transcripts
    assert transcript.purpose == "voice_message" and transcript.text
    assert Path(transcript.audio_path).stat().st_size > 3 * 2 * 16000  # over 3 s of 16 kHz audio kept
    [message_ticket] = message_tickets
    assert (message_ticket.recording, message_ticket.created_at) == (transcript.audio_path, transcript.started_at)
    assert [(t.reason, t.ticket_number) for t in message_tasks] == [("voice_message", message_ticket.number)]
