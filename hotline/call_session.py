"""Builds the per-call IVR handler; kept apart from hotline.system so a one-process-per-call AGI
script can import it without the API and AMI stack."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from agi.session import CallLimits, CallServices, CallSession, OpenVoiceMessage, RunningFlow
from domain.callbacks import CallbackReason, new_callback
from hotline.flows import LiveFlows, flow_catalogue, flow_checker, prompt_audio_store, prompt_installer
from hotline.settings import Settings
from ivr.validation import load_flow
from services.calendar import WorkingCalendars
from storage.barred_callers import BarredCallerSnapshot
from storage.call_records import calls_from
from storage.callbacks import create_callback
from storage.ivr_versions import live_flow
from storage.tickets import status_for_caller


def _services(settings: Settings, sessions: sessionmaker[Session]) -> dict[str, Callable]:
    """The IVR's database lookups; each runs in the calling FastAGI worker thread."""

    def ticket_status(number: str) -> str | None:
        with sessions() as session:
            return status_for_caller(session, number)

    def recent_calls(caller: str, days: int) -> int:
        with sessions() as session:
            return calls_from(session, caller, datetime.now(UTC) - timedelta(days=days))

    def book_callback(uniqueid: str, number: str, queue: str) -> int:
        now = datetime.now(UTC)
        # Due for agents to call by hand only if the kept place never reached an agent.
        task = new_callback(
            number, CallbackReason.KEPT_PLACE, now, due_at=now + timedelta(seconds=settings.callback_hold_seconds),
            call_uniqueid=uniqueid, queue=queue,
        )
        with sessions.begin() as session:
            stored = create_callback(session, task)
        if stored is None or stored.id is None:
            raise RuntimeError(f"call {uniqueid} already has a kept-place callback")
        return stored.id

    return {"ticket_status": ticket_status, "recent_calls": recent_calls, "book_callback": book_callback}


def build_call_session(
    settings: Settings,
    sessions: sessionmaker[Session],
    calendars: WorkingCalendars,
    longest_wait: Callable[[], float] = lambda: 0.0,
    voice_message: OpenVoiceMessage = lambda _call, _caller: None,
) -> CallSession:
    audio = prompt_audio_store(settings)
    installer = prompt_installer(settings, audio)
    shipped = load_flow(settings.ivr_flow_file, flow_catalogue(settings, audio))

    def read_live():
        with sessions() as session:
            return live_flow(session)

    flows = LiveFlows(
        read_live,
        parse=flow_checker(settings, audio),
        install=lambda flow: installer.install(flow.prompts),
        shipped=RunningFlow(0, shipped, installer.install(shipped.prompts)),
    )
    barred = BarredCallerSnapshot(sessions, max_age=settings.barred_list_max_age_seconds)
    services = CallServices(
        is_barred=barred.__contains__, longest_wait=longest_wait, voice_message=voice_message, speak=installer.text,
        is_workday=calendars.is_workday, **_services(settings, sessions),
    )
    limits = CallLimits(
        call_seconds=settings.ivr_budget_seconds, message_seconds=settings.voice_message_max_seconds,
        callback_hold_seconds=settings.callback_hold_seconds, ring_seconds=settings.transfer_ring_seconds,
    )
    return CallSession(flows, services, limits)
