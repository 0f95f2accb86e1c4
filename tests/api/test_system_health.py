"""The running system's health as `hotline up` builds it, from the real parts: an AMI client that is
not signed in, a FastAGI thread that has stopped, speech with no recognizer pool, and a database
that answers or one where nothing listens; and how the API reports them."""

from __future__ import annotations

import threading
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import Connection
from sqlalchemy.orm import Session

from agent_api.app import create_app
from agent_api.context import ApiContext
from asr.audio_store import AudioStore
from asr.speech import SpeechService
from asr.streams import StreamDirectory
from hotline.health import system_health
from storage.database import make_engine, make_session_factory
from telephony.ami import AmiClient

NOWHERE = make_session_factory(make_engine("postgresql+psycopg://postgres@127.0.0.1:1/hotline"))


class NoListener:
    def on_text(self, stream, text, final) -> None: ...

    def on_stream_end(self, stream) -> None: ...


async def test_each_part_is_reported_as_it_is(connection: Connection, tmp_path: Path) -> None:
    def sessions() -> Session:
        return Session(bind=connection, join_transaction_mode="create_savepoint")

    ami = AmiClient("127.0.0.1", 1, "nobody", "nothing")  # never connected
    speech = SpeechService(
        StreamDirectory(), AudioStore(tmp_path / "audio"), tmp_path / "spool", lambda _: None, NoListener()
    )
    stopped = threading.Thread(target=lambda: None)
    stopped.start()
    stopped.join()
    running = threading.Event()
    alive = threading.Thread(target=running.wait)
    alive.start()
    try:
        down = system_health(NOWHERE, ami.logged_in.is_set, stopped.is_alive, lambda: speech.asr_available)
        up_database = system_health(sessions, ami.logged_in.is_set, alive.is_alive, lambda: speech.asr_available)
        assert down() == {"asterisk": False, "database": False, "agi": False, "asr": False}
        assert up_database() == {"asterisk": False, "database": True, "agi": True, "asr": False}
        reply = TestClient(create_app(ApiContext(sessions=sessions, health=up_database))).get("/api/v1/health")
        assert (reply.status_code, reply.json()) == (
            503,
            {"ok": False, "asterisk": False, "database": True, "agi": True, "asr": False, "warnings": []},
        )
    finally:
        running.set()
        alive.join()
