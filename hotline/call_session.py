"""Builds the per-call IVR handler; kept apart from hotline.system so a one-process-per-call AGI
script can import it without the API and AMI stack."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from agi.session import CallSession
from hotline.settings import Settings
from ivr.validation import load_flow
from storage.barred_callers import BarredCallerSnapshot


def build_call_session(settings: Settings, sessions: sessionmaker[Session]) -> CallSession:
    flow = load_flow(settings.ivr_flow_file, settings.queues, settings.emergency_targets)
    barred = BarredCallerSnapshot(sessions, max_age=settings.barred_list_max_age_seconds)
    return CallSession(lambda: flow, barred.__contains__, call_seconds=settings.ivr_budget_seconds)
