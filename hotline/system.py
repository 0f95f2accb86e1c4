"""Composition root: builds the hotline's parts from settings and runs them together."""

from __future__ import annotations

import asyncio
import logging
import threading

import uvicorn
from prometheus_client import start_http_server
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from agent_api.app import create_app
from agent_api.context import ApiContext
from agi.server import FastAGIServer
from domain.calls import CallRecord
from hotline.call_session import build_call_session
from hotline.settings import Settings
from storage.call_records import save_call_record
from storage.database import make_engine, make_session_factory
from storage.spool import DurableSpool
from telephony.ami import AmiClient
from telephony.call_events import CallRecorder

log = logging.getLogger(__name__)


def build_agi_server(settings: Settings, sessions: sessionmaker[Session]) -> FastAGIServer:
    return FastAGIServer(
        settings.bind_host,
        settings.agi_port,
        build_call_session(settings, sessions),
        workers=settings.agi_workers,
        header_timeout=settings.agi_header_timeout,
    )


def record_saver(sessions: sessionmaker[Session]):
    def save(record: CallRecord) -> None:
        with sessions.begin() as session:
            save_call_record(session, record)

    return save


async def run_system(settings: Settings) -> None:
    """FastAGI server, AMI call recorder and agent API in one process, until cancelled."""
    sessions = make_session_factory(make_engine(settings.database_url))
    start_http_server(settings.metrics_port, addr=settings.bind_host)  # Prometheus: /metrics
    agi = build_agi_server(settings, sessions)
    agi_thread = threading.Thread(target=agi.serve_forever, name="fastagi", daemon=True)
    agi_thread.start()

    ami = AmiClient(settings.bind_host, settings.ami_port, settings.ami_username, settings.ami_secret)
    await ami.connect()
    recorder = CallRecorder(record_saver(sessions), DurableSpool(settings.spool_dir / "call-records"))
    recording = asyncio.create_task(recorder.run(ami.events), name="call-recorder")

    def health() -> dict[str, bool]:
        try:
            with sessions() as session:
                session.execute(text("SELECT 1"))
            database = True
        except Exception:
            database = False
        return {"asterisk": ami.logged_in.is_set(), "database": database, "agi": agi_thread.is_alive()}

    api = uvicorn.Server(
        uvicorn.Config(
            create_app(ApiContext(sessions=sessions, health=health)), host=settings.bind_host, port=settings.api_port, log_level="warning", lifespan="off"
        )
    )
    try:
        await api.serve()
    finally:
        recording.cancel()
        ami.close()
        agi.shutdown()
