"""Composition root: builds the hotline's parts from settings and runs them together."""

from __future__ import annotations

import asyncio
import logging
import threading
from datetime import UTC, datetime

import uvicorn
from prometheus_client import REGISTRY, start_http_server
from sqlalchemy.orm import Session, sessionmaker

from agent_api.app import create_app
from agent_api.context import ApiContext
from agent_api.live_hub import Hub
from agi.server import FastAGIServer
from domain.callback_numbers import CallbackNumbers
from domain.calls import CallRecord
from hotline.call_session import build_call_session
from hotline.flows import build_ivr_admin, prompt_audio_store
from hotline.health import system_health, system_warnings
from hotline.settings import Settings
from hotline.speech import Speech, build_speech, run_speech
from hotline.ticket_metrics import CalendarCoverage, TicketDeadlines
from services.calendar import WorkingCalendars
from services.call_context import build_cti_hooks
from services.kept_place import follow_kept_places
from services.search_indexes import SearchIndexes
from services.ticket_intake import TicketBacklog, TicketIntake
from storage.calendar_seed import SEED_SOURCE
from storage.call_records import save_call_record
from storage.callbacks import create_callback_for_call
from storage.database import make_engine, make_session_factory
from storage.spool import DurableSpool
from telephony.ami import AmiClient
from telephony.call_events import CallRecorder
from telephony.cti import CtiConfig, CtiService

log = logging.getLogger(__name__)


def build_agi_server(
    settings: Settings, sessions: sessionmaker[Session], calendars: WorkingCalendars,
    cti: CtiService | None = None, speech: Speech | None = None,
) -> FastAGIServer:
    """The IVR server; with call control it knows queue waits, with speech it takes voice messages."""
    return FastAGIServer(
        settings.bind_host,
        settings.agi_port,
        build_call_session(
            settings, sessions, calendars,
            longest_wait=cti.longest_wait if cti else lambda: 0.0,
            voice_message=speech.voice_message_dial if speech else lambda _call, _caller: None,
        ),
        workers=settings.agi_workers,
        header_timeout=settings.agi_header_timeout,
    )


def cti_config(settings: Settings) -> CtiConfig:
    return CtiConfig(
        agent_extensions=frozenset(settings.queue_agents),
        skill_queues=settings.skill_queues,
        queues=frozenset(settings.queues),
        emergency_numbers=frozenset(settings.emergency_targets),
        default_skills=settings.default_skills,
        ring_seconds=settings.transfer_ring_seconds,
        wrapup_seconds=settings.wrapup_seconds,
        handoff_overlap_seconds=settings.handoff_overlap_seconds,
        wallboard_interval_seconds=settings.wallboard_interval_seconds,
    )


def record_saver(sessions: sessionmaker[Session]):
    def save(record: CallRecord) -> None:
        with sessions.begin() as session:
            save_call_record(session, record)
            create_callback_for_call(session, record, datetime.now(UTC))

    return save


async def run_system(settings: Settings) -> None:
    """FastAGI server, AMI call recorder, call control, speech and the agent API in one process,
    until cancelled. Each part is built once, after the parts it needs."""
    sessions = make_session_factory(make_engine(settings.database_url))
    calendars = WorkingCalendars(sessions)
    if entered := calendars.seed_known_years():
        log.info("working calendar: years %s entered from %s", entered, SEED_SOURCE)
    intake = TicketIntake(calendars)
    indexes = SearchIndexes()
    start_http_server(settings.metrics_port, addr=settings.bind_host)  # Prometheus: /metrics
    REGISTRY.register(TicketDeadlines(sessions))
    REGISTRY.register(CalendarCoverage(calendars))

    ami = AmiClient(settings.bind_host, settings.ami_port, settings.ami_username, settings.ami_secret)
    recorder_events, cti_events, fork_events = ami.subscribe(), ami.subscribe(), ami.subscribe()
    callback_events = ami.subscribe()
    await ami.connect()
    recorder = CallRecorder(record_saver(sessions), DurableSpool(settings.spool_dir / "call-records"))
    hub = Hub()
    backlog = TicketBacklog(DurableSpool(settings.spool_dir / "ticket-work"), sessions, intake)
    cti = CtiService(ami, cti_config(settings), build_cti_hooks(sessions, intake, backlog), hub.publish)
    speech = build_speech(settings, sessions, ami, cti.board, hub.publish, indexes, intake)
    cti.hooks.live_draft = speech.drafts.draft_of

    ivr = build_ivr_admin(settings, sessions)
    if (seeded := ivr.seed(settings.ivr_flow_file.read_text(encoding="utf-8"))) is not None:
        log.info("IVR flow version %d published from %s", seeded, settings.ivr_flow_file)
    agi = build_agi_server(settings, sessions, calendars, cti, speech)
    agi_thread = threading.Thread(target=agi.serve_forever, name="fastagi", daemon=True)
    agi_thread.start()

    api_context = ApiContext(
        sessions=sessions,
        health=system_health(sessions, ami.logged_in.is_set, agi_thread.is_alive, lambda: speech.service.asr_available),
        health_warnings=system_warnings(calendars), cti=cti, hub=hub, indexes=indexes, ivr=ivr,
        prompt_audio=prompt_audio_store(settings), ticket_backlog=backlog, intake=intake,
        callback_numbers=CallbackNumbers(settings.callback_numbers),
    )
    tasks = [
        asyncio.create_task(recorder.run(recorder_events), name="call-recorder"),
        asyncio.create_task(cti.run(cti_events), name="cti"),
        asyncio.create_task(cti.run_wallboard(), name="wallboard"),
        asyncio.create_task(follow_kept_places(callback_events, sessions), name="kept-places"),
        asyncio.create_task(backlog.run(hub.publish), name="ticket-backlog"),
        *await run_speech(speech, fork_events),
    ]

    api = uvicorn.Server(
        uvicorn.Config(
            create_app(api_context), host=settings.bind_host, port=settings.api_port, log_level="warning", lifespan="off",
        )
    )
    try:
        await api.serve()
    finally:
        for task in tasks:
            task.cancel()
        speech.service.stop_pool()
        ami.close()
        agi.shutdown()
