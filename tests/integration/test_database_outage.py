"""PostgreSQL stopped for a minute while calls come in and agents work tickets: calls go on, every
call record accepted meanwhile waits in the durable spool and is written once it is back (nothing
lost, nothing twice), and the API refuses ticket work with a 503 rather than accepting what it could
not keep. A PostgreSQL cluster of the test's own (Debian's binaries), so stopping it disturbs no one."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from glob import glob
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from agent_api.app import create_app
from agent_api.context import ApiContext
from agent_api.passwords import hash_password
from hotline.system import record_saver
from storage.database import make_engine, make_session_factory
from storage.migrate import upgrade_database
from storage.spool import DurableSpool
from storage.tables import CallbackTaskRow, CallRecordRow
from storage.users import create_user
from telephony.call_events import CallRecorder
from tests.integration.conftest import Hotline
from tests.integration.events import is_event

pytestmark = pytest.mark.integration

PORT = 15432
DOWN_SECONDS = 60


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
        self._as_postgres(str(self.bin / "pg_ctl"), "-D", str(self.data / "db"), "-o", options,
                          "-l", str(self.data / "log"), "-w", "start")

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
        subprocess.run(["runuser", "-u", "postgres", "--", str(cluster.bin / "pg_ctl"), "-D", str(data / "db"),
                        "-m", "immediate", "stop"], capture_output=True, timeout=60)
        shutil.rmtree(data, ignore_errors=True)


def reachable(sessions: sessionmaker[Session]) -> bool:
    try:
        with sessions() as session:
            session.execute(select(1))
        return True
    except OperationalError:
        return False


def stored(sessions: sessionmaker[Session], uniqueids: list[str]) -> tuple[dict[str, int], dict[str, int]]:
    """How many call records and callback tasks each call has."""
    with sessions() as session:
        records = dict(session.execute(
            select(CallRecordRow.uniqueid, func.count()).where(CallRecordRow.uniqueid.in_(uniqueids))
            .group_by(CallRecordRow.uniqueid)
        ).all())
        tasks = dict(session.execute(
            select(CallbackTaskRow.call_uniqueid, func.count()).where(CallbackTaskRow.call_uniqueid.in_(uniqueids))
            .group_by(CallbackTaskRow.call_uniqueid)
        ).all())
    return records, tasks


async def test_postgresql_down_for_a_minute_loses_and_duplicates_nothing(
    hotline: Hotline, postgres: PrivatePostgres, tmp_path: Path
) -> None:
    sessions = make_session_factory(make_engine(postgres.url))
    with sessions.begin() as session:
        create_user(session, "agent-pg", hash_password("s3cret-enough"), "agent", "王")
    spool = DurableSpool(tmp_path / "spool")
    recording = asyncio.create_task(CallRecorder(record_saver(sessions), spool).run(hotline.ami.subscribe()))
    app = create_app(ApiContext(sessions=sessions, health=lambda: {}))
    api = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api")
    login = {"username": "agent-pg", "password": "s3cret-enough"}
    token = (await api.post("/api/v1/auth/login", json=login)).json()["token"]
    desk = {"Authorization": f"Bearer {token}"}
    ticket = {"request_type": "complaint", "content": "小区门口垃圾堆放多日无人清运"}
    try:
        await asyncio.to_thread(postgres.stop)
        down_at = asyncio.get_running_loop().time()
        calls = [(await hotline.call(hotline.new_caller(), hold_seconds=15))[0] for _ in range(3)]
        routes = [await hotline.events.wait_for(is_event("UserEvent", UserEvent="HotlineRoute", Uniqueid=u), 25)
                  for u in calls]
        for uniqueid in calls:
            await hotline.events.wait_for(is_event("Hangup", Uniqueid=uniqueid), timeout=30)
        refused = await api.post("/api/v1/tickets", json=ticket, headers=desk)
        await asyncio.sleep(1)
        spooled_while_down = len(spool.pending())
        database_down = not await asyncio.to_thread(reachable, sessions)
        await asyncio.sleep(max(0.0, DOWN_SECONDS - (asyncio.get_running_loop().time() - down_at)))
        await asyncio.to_thread(postgres.start)
        for _ in range(100):  # the recorder retries the spool every 2 s
            if not spool.pending():
                break
            await asyncio.sleep(0.2)
        records, tasks = await asyncio.to_thread(stored, sessions, calls)
        accepted = await api.post("/api/v1/tickets", json=ticket, headers=desk)
    finally:
        recording.cancel()
        await api.aclose()
        if not await asyncio.to_thread(reachable, sessions):
            await asyncio.to_thread(postgres.start)

    assert [r["Action"] for r in routes] == ["queue"] * 3  # calls went on: the IVR does not need PostgreSQL
    assert (database_down, spooled_while_down) == (True, 3)
    assert (refused.status_code, refused.json()["detail"]) == (
        503, "the database is unreachable: nothing was saved; try again shortly")
    assert spool.pending() == []
    assert records == {u: 1 for u in calls}  # each written once
    assert tasks == {u: 1 for u in calls}  # each caller who gave up gets one callback task
    assert accepted.status_code == 201, accepted.text
