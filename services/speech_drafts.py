"""Draft tickets from what callers say: a call's draft as it grows (for the agent's screen) and,
when a transcript is saved, the call's final draft; a voice message becomes a draft ticket and a
callback task, counted from when it was left."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import asdict
from datetime import UTC, datetime

from sqlalchemy.orm import Session, sessionmaker

from domain.callbacks import CallbackReason, callable_number, new_callback
from domain.drafts import DraftTicket
from domain.speech import Purpose, Transcript
from domain.tickets import Channel, RequestType, Role
from routing.drafting import DraftBuilder
from routing.duplicates import PriorRequest, prior_request
from routing.emergency import DEFAULT_NOT_EMERGENCIES, EmergencySpotter
from routing.places import Gazetteer
from services.search_indexes import SearchIndexes
from services.ticket_intake import TicketIntake
from storage.callbacks import create_callback
from storage.speech import save_call_draft, save_transcript
from storage.tickets import tickets_of_caller

log = logging.getLogger(__name__)
SPEECH_USER = "speech"  # the audit trail's actor for tickets made from voice messages
PRIOR_CACHE_SIZE = 512  # callers whose earlier tickets are kept while their calls go on
UNHEARD_MESSAGE = "（语音留言，未能识别内容，请回拨时询问）"


def _not_emergencies(phrases: tuple[str, ...]) -> list[str]:
    return [word for word in DEFAULT_NOT_EMERGENCIES if any(p in word for p in phrases) and word not in phrases]


class Drafting:
    """Draft tickets from text, on the process's shared triage and knowledge index (rebuilt when
    admins change departments or entries)."""

    def __init__(
        self,
        sessions: Callable[[], Session],
        indexes: SearchIndexes,
        gazetteer: Gazetteer,
        emergency_phrases: tuple[str, ...],
    ):
        self._sessions = sessions
        self._indexes = indexes
        self._gazetteer = gazetteer
        self.set_emergency_phrases(emergency_phrases)
        self._prior: dict[str, tuple[PriorRequest, ...]] = {}  # earlier tickets, by caller

    def set_emergency_phrases(self, phrases: tuple[str, ...]) -> None:
        """Takes effect for the next result heard; raises ValueError for a bad list."""
        self._spotter = EmergencySpotter(phrases, _not_emergencies(phrases))
        self.emergency_phrases = tuple(phrases)

    def _prior_of(self, session: Session, caller: str) -> tuple[PriorRequest, ...]:
        if not caller:
            return ()
        if caller not in self._prior:
            if len(self._prior) >= PRIOR_CACHE_SIZE:
                self._prior.clear()
            self._prior[caller] = tuple(prior_request(t) for t in tickets_of_caller(session, caller))
        return self._prior[caller]

    def build(self, session: Session, call_id: str, caller: str, text: str) -> DraftTicket:
        """From a worker thread: the first use reads departments, history and the knowledge base; later
        ones only what changed meanwhile (the caller's earlier tickets are read once per caller)."""
        indexes = self._indexes
        builder = DraftBuilder(
            indexes.triage.get(session),
            indexes.departments.get(session),
            self._gazetteer,
            self._spotter,
            indexes.knowledge.get(session),
        )
        return builder.build(call_id, caller, text, self._prior_of(session, caller), datetime.now(UTC))

    def live(self, call_id: str, caller: str, text: str) -> DraftTicket:
        with self._sessions() as session:
            return self.build(session, call_id, caller, text)


def transcript_saver(
    sessions: sessionmaker[Session], drafting: Drafting, intake: TicketIntake
) -> Callable[[Transcript], None]:
    def save(transcript: Transcript) -> None:
        now = datetime.now(UTC)
        with sessions.begin() as session:
            if not save_transcript(session, transcript):
                return  # saved before a crash: its draft, ticket and callback were saved with it
            draft = drafting.build(session, transcript.call_id, transcript.caller, transcript.text)
            if transcript.purpose is Purpose.CALL:
                save_call_draft(session, transcript.call_id, transcript.caller, asdict(draft), now)
                return
            # The message was accepted when the caller left it: its time limit and callback count from
            # then, even when the transcript is saved later (ASR or the database was down).
            left_at = transcript.started_at
            ticket = intake.open_ticket(
                session,
                SPEECH_USER,
                Role.AGENT,
                left_at,
                request_type=RequestType(draft.request_type or "help"),
                channel=Channel.PHONE,
                content=draft.transcript or UNHEARD_MESSAGE,
                urgent=draft.urgent,
                caller_number=transcript.caller or None,
                district=draft.district,
                street=draft.street,
                call_uniqueid=transcript.call_id,
                recording=transcript.audio_path,
            )
            if callable_number(transcript.caller):
                create_callback(
                    session,
                    new_callback(
                        transcript.caller,
                        CallbackReason.VOICE_MESSAGE,
                        left_at,
                        call_uniqueid=transcript.call_id,
                        ticket_number=ticket.number,
                    ),
                )
            log.info("voice message of call %s: ticket %s", transcript.call_id, ticket.number)

    return save
