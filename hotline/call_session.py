"""Builds the per-call IVR handler; kept apart from hotline.system so a one-process-per-call AGI
script can import it without the API and AMI stack."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session, sessionmaker

from agi.session import CallSession, OpenVoiceMessage
from hotline.settings import Settings
from ivr.validation import load_flow
from storage.barred_callers import BarredCallerSnapshot


def build_call_session(
    settings: Settings,
    sessions: sessionmaker[Session],
    longest_wait: Callable[[], float] = lambda: 0.0,
    voice_message: OpenVoiceMessage = lambda _call, _caller: None,
) -> CallSession:
    flow = load_flow(settings.ivr_flow_file, settings.queues, settings.emergency_targets)
    barred = BarredCallerSnapshot(sessions, max_age=settings.barred_list_max_age_seconds)
    return CallSession(
        lambda: flow, barred.__contains__, call_seconds=settings.ivr_budget_seconds, longest_wait=longest_wait,
        voice_message=voice_message, message_seconds=settings.voice_message_max_seconds,
    )
