"""Builds the per-call IVR handler; kept apart from hotline.system so a one-process-per-call AGI
script can import it without the API and AMI stack."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session, sessionmaker

from agi.live_flows import LiveFlows
from agi.session import CallLimits, CallServices, CallSession, OpenVoiceMessage, RunningFlow
from hotline.flows import flow_catalogue, flow_checker, prompt_audio_store, prompt_installer
from hotline.settings import Settings
from ivr.validation import load_flow
from services.calendar import WorkingCalendars
from services.ivr_lookups import IvrLookups
from storage.barred_callers import BarredCallerSnapshot
from storage.ivr_versions import live_flow


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
    lookups = IvrLookups(sessions, settings.callback_hold_seconds)
    barred = BarredCallerSnapshot(sessions, max_age=settings.barred_list_max_age_seconds)
    services = CallServices(
        is_barred=barred.__contains__,
        longest_wait=longest_wait,
        voice_message=voice_message,
        speak=installer.text,
        is_workday=calendars.is_workday,
        ticket_status=lookups.ticket_status,
        recent_calls=lookups.recent_calls,
        book_callback=lookups.book_callback,
    )
    limits = CallLimits(
        call_seconds=settings.ivr_budget_seconds,
        message_seconds=settings.voice_message_max_seconds,
        callback_hold_seconds=settings.callback_hold_seconds,
        ring_seconds=settings.transfer_ring_seconds,
    )
    return CallSession(flows, services, limits)
