"""Builds the speech path from settings: the AudioSocket server, the Vosk worker pool, the audio
fork of queued calls, live drafts, and what a transcript becomes in the database (a call's final
draft; for a voice message, a draft ticket and a callback task)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime

from sqlalchemy.orm import Session, sessionmaker

from agent_api.context import ApiContext
from asr.audio_fork import AudioFork, audiosocket_dial
from asr.audio_store import AudioStore
from asr.live_drafts import LiveDrafts
from asr.message_end import MessageLimits
from asr.model import EndpointerDelays, ModelError
from asr.pool import RecognizerPool
from asr.speech import SpeechService
from asr.streams import StreamDirectory, StreamInfo
from domain.callbacks import CallbackReason, callable_number, new_callback
from domain.drafts import DraftTicket
from domain.speech import Purpose, Transcript
from domain.tickets import Channel, RequestType, Role
from hotline.settings import Settings
from routing.drafting import DraftBuilder
from routing.duplicates import PriorRequest, prior_request
from routing.emergency import DEFAULT_NOT_EMERGENCIES, EmergencySpotter
from routing.places import load_gazetteer
from services.ticket_intake import TicketIntake
from storage.callbacks import create_callback
from storage.speech import save_call_draft, save_transcript
from storage.tickets import tickets_of_caller
from telephony.ami import AmiClient
from telephony.cti import CtiService

log = logging.getLogger(__name__)
SPEECH_USER = "speech"  # the audit trail's actor for tickets made from voice messages
PRIOR_CACHE_SIZE = 512  # callers whose earlier tickets are kept while their calls go on
UNHEARD_MESSAGE = "（语音留言，未能识别内容，请回拨时询问）"


def _not_emergencies(phrases: tuple[str, ...]) -> list[str]:
    return [word for word in DEFAULT_NOT_EMERGENCIES if any(p in word for p in phrases) and word not in phrases]


class Drafting:
    """Draft tickets from text, on the API's shared triage and knowledge index (rebuilt when admins
    change departments or entries)."""

    def __init__(self, settings: Settings, sessions: sessionmaker[Session], api: ApiContext):
        self._sessions = sessions
        self._api = api
        self._gazetteer = load_gazetteer(settings.gazetteer_file)
        self.set_emergency_phrases(settings.emergency_phrases)
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
        api = self._api
        builder = DraftBuilder(
            api.triage.get(session), api.departments.get(session), self._gazetteer, self._spotter,
            api.knowledge.get(session),
        )
        return builder.build(call_id, caller, text, self._prior_of(session, caller), datetime.now(UTC))

    def live(self, stream: StreamInfo, text: str) -> DraftTicket:
        with self._sessions() as session:
            return self.build(session, stream.call_id, stream.caller, text)


def transcript_saver(sessions: sessionmaker[Session], drafting: Drafting, intake: TicketIntake) -> Callable[[Transcript], None]:
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
                session, SPEECH_USER, Role.AGENT, left_at,
                request_type=RequestType(draft.request_type or "help"), channel=Channel.PHONE,
                content=draft.transcript or UNHEARD_MESSAGE, urgent=draft.urgent,
                caller_number=transcript.caller or None, district=draft.district, street=draft.street,
                call_uniqueid=transcript.call_id, recording=transcript.audio_path,
            )
            if callable_number(transcript.caller):
                create_callback(session, new_callback(
                    transcript.caller, CallbackReason.VOICE_MESSAGE, left_at,
                    call_uniqueid=transcript.call_id, ticket_number=ticket.number,
                ))
            log.info("voice message of call %s: ticket %s", transcript.call_id, ticket.number)

    return save


@dataclass
class Speech:
    directory: StreamDirectory
    service: SpeechService
    fork: AudioFork
    drafts: LiveDrafts
    drafting: Drafting
    settings: Settings

    def voice_message_dial(self, call_id: str, caller: str) -> str | None:
        """For the IVR (from a FastAGI thread): an AudioSocket stream for a voice message."""
        info = self.directory.expect(call_id, caller, Purpose.VOICE_MESSAGE)
        return audiosocket_dial(self.settings.audiosocket_address, info.stream_id) if info else None

    def start_pool(self) -> RecognizerPool | None:
        """Starts the Vosk workers (seconds: each loads the model); None, with the reason logged, if
        the model is missing or broken — calls go on and audio waits on disk until ASR is back."""
        settings = self.settings
        endpointer = EndpointerDelays(end=settings.asr_endpoint_seconds) if settings.asr_endpoint_seconds else None
        pool = RecognizerPool(
            settings.asr_model_dir, settings.asr_workers, settings.asr_model_sha256,
            on_result=self.service.on_result, endpointer=endpointer,
        )
        try:
            pool.start()
        except ModelError as exc:
            log.error("speech recognition is off: %s", exc)
            return None
        self.service.attach_pool(pool)
        return pool


def build_speech(
    settings: Settings, sessions: sessionmaker[Session], ami: AmiClient, cti: CtiService, api: ApiContext,
) -> Speech:
    drafting = Drafting(settings, sessions, api)
    directory = StreamDirectory()

    def save_live_draft(draft: DraftTicket) -> None:
        with sessions.begin() as session:
            save_call_draft(session, draft.call_id, draft.caller, asdict(draft), datetime.now(UTC))

    drafts = LiveDrafts(drafting.live, cti.board, cti.publish, ami, save_live_draft, settings.emergency_priority)
    service = SpeechService(
        directory, AudioStore(settings.asr_audio_dir), settings.spool_dir, transcript_saver(sessions, drafting, api.intake), drafts,
        MessageLimits(max_seconds=settings.voice_message_max_seconds),
    )
    return Speech(directory, service, AudioFork(ami, directory, settings.audiosocket_address), drafts, drafting, settings)


async def run_speech(speech: Speech, ami_events: asyncio.Queue) -> list[asyncio.Task]:
    """Serves AudioSocket, forks queued callers' audio, catches up on untranscribed audio; the pool
    starts in a thread so a slow model load does not hold up calls."""
    settings = speech.settings
    server = await speech.service.serve(settings.bind_host, settings.audiosocket_port)
    return [
        asyncio.create_task(server.serve_forever(), name="audiosocket"),
        asyncio.create_task(speech.fork.run(ami_events), name="audio-fork"),
        asyncio.create_task(speech.service.run_catch_up(), name="speech-catch-up"),
        asyncio.create_task(asyncio.to_thread(speech.start_pool), name="asr-pool"),
    ]
