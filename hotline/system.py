"""Composition root: builds the hotline's parts from settings and runs them together."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from datetime import UTC, datetime
from typing import Any

import uvicorn
from prometheus_client import REGISTRY, start_http_server
from sqlalchemy.orm import Session, sessionmaker

from agent_api.app import create_app
from agent_api.context import ApiContext
from agent_api.live_hub import Hub
from agent_api.throttle import MissThrottle, SignInLimits, SignInThrottle
from agi.server import FastAGIServer
from domain.agents import QueueBoard
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
from storage.barred_callers import barred_numbers
from storage.calendar_seed import SEED_SOURCE
from storage.call_records import save_call_record
from storage.callbacks import create_callback_for_call
from storage.database import make_engine, make_session_factory
from storage.spool import DurableSpool
from telephony.ami import AmiClient
from telephony.barred_list import BarredListMirror
from telephony.call_events import CallRecorder
from telephony.cti import build_cti
from telephony.cti_config import CtiConfig

log = logging.getLogger(__name__)
STOP_GRACE_SECONDS = 3  # on SIGTERM/Ctrl-C: for open API connections, then for IVR sessions in progress


def build_agi_server(
    settings: Settings,
    sessions: sessionmaker[Session],
    calendars: WorkingCalendars,
    board: QueueBoard | None = None,
    speech: Speech | None = None,
) -> FastAGIServer:
    """The IVR server; with call control it knows queue waits, with speech it takes voice messages."""
    return FastAGIServer(
        settings.bind_host,
        settings.agi_port,
        build_call_session(
            settings,
            sessions,
            calendars,
            longest_wait=(lambda: board.longest_wait(time.time())) if board else lambda: 0.0,
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


def api_limits(settings: Settings) -> dict[str, Any]:
    """The API context's throttles and body limit."""
    sign_ins = SignInLimits(
        per_user_at_address=settings.sign_in_failures_per_user_at_address,
        per_address=settings.sign_in_failures_per_address,
        overall=settings.sign_in_failures_overall,
        window_seconds=settings.sign_in_window_seconds,
    )
    return {
        "sign_in_throttle": SignInThrottle(sign_ins),
        "progress_throttle": MissThrottle(settings.progress_misses_per_address, settings.progress_window_seconds),
        "max_body_bytes": settings.max_request_bytes,
    }


def barred_list_mirror(ami: AmiClient, sessions: sessionmaker[Session], settings: Settings) -> BarredListMirror:
    """The barred list in Asterisk's AstDB, which the dialplan checks when the AGI fails."""

    def barred_now() -> frozenset[str]:
        with sessions() as session:
            return barred_numbers(session, datetime.now(UTC))

    return BarredListMirror(ami, barred_now, settings.barred_list_max_age_seconds)


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
    metrics, _ = start_http_server(settings.metrics_port, addr=settings.bind_host)  # Prometheus: /metrics
    REGISTRY.register(TicketDeadlines(sessions))
    REGISTRY.register(CalendarCoverage(calendars))

    ami = AmiClient(settings.bind_host, settings.ami_port, settings.ami_username, settings.ami_secret)
    recorder_events, cti_events, fork_events = ami.subscribe(), ami.subscribe(), ami.subscribe()
    callback_events, barred_events = ami.subscribe(), ami.subscribe()
    await ami.connect()
    recorder = CallRecorder(record_saver(sessions), DurableSpool(settings.spool_dir / "call-records"))
    hub = Hub()
    backlog = TicketBacklog(DurableSpool(settings.spool_dir / "ticket-work"), sessions, intake)
    config = cti_config(settings)
    board = QueueBoard(config.wrapup_seconds)
    speech = build_speech(settings, sessions, ami, board, hub.publish, indexes, intake)
    hooks = build_cti_hooks(sessions, intake, backlog, live_draft=speech.drafts.draft_of)
    cti = build_cti(ami, board, config, hooks, hub.publish)

    ivr = build_ivr_admin(settings, sessions)
    if (seeded := ivr.seed(settings.ivr_flow_file.read_text(encoding="utf-8"))) is not None:
        log.info("IVR flow version %d published from %s", seeded, settings.ivr_flow_file)
    agi = build_agi_server(settings, sessions, calendars, board, speech)
    agi_thread = threading.Thread(target=agi.serve_forever, name="fastagi", daemon=True)
    agi_thread.start()

    api_context = ApiContext(
        sessions=sessions,
        health=system_health(sessions, ami.logged_in.is_set, agi_thread.is_alive, lambda: speech.service.asr_available),
        health_warnings=system_warnings(calendars),
        cti=cti,
        hub=hub,
        indexes=indexes,
        ivr=ivr,
        prompt_audio=prompt_audio_store(settings),
        ticket_backlog=backlog,
        intake=intake,
        callback_numbers=CallbackNumbers(settings.callback_numbers),
        **api_limits(settings),
    )
    tasks = [
        asyncio.create_task(recorder.run(recorder_events), name="call-recorder"),
        asyncio.create_task(cti.follower.run(cti_events), name="cti"),
        asyncio.create_task(cti.wallboard.run(), name="wallboard"),
        asyncio.create_task(follow_kept_places(callback_events, sessions), name="kept-places"),
        asyncio.create_task(backlog.run(hub.publish), name="ticket-backlog"),
        asyncio.create_task(barred_list_mirror(ami, sessions, settings).run(barred_events), name="barred-list"),
        *await run_speech(speech, fork_events),
    ]

    api = uvicorn.Server(
        uvicorn.Config(
            create_app(api_context),
            host=settings.bind_host,
            port=settings.api_port,
            log_level="warning",
            lifespan="off",
            timeout_graceful_shutdown=STOP_GRACE_SECONDS,  # agents' live websockets would hold it for ever
        )
    )
    try:
        await api.serve()  # until SIGTERM or SIGINT (uvicorn's handlers), or cancelled
    finally:
        # IVR sessions in progress finish first, with AMI and the event loop still running for them.
        await asyncio.to_thread(agi.shutdown, STOP_GRACE_SECONDS)
        for task in tasks:
            task.cancel()
        speech.service.stop_pool()
        ami.close()
        metrics.shutdown()
        metrics.server_close()
