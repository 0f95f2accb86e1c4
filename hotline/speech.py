"""Builds the speech path from settings: the AudioSocket server, the Vosk worker pool, the audio
fork of queued calls and live drafts; what a transcript becomes is services.speech_drafts'."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime

from sqlalchemy.orm import Session, sessionmaker

from asr.audio_fork import AudioFork, audiosocket_dial
from asr.audio_store import AudioStore
from asr.live_drafts import LiveDrafts
from asr.message_end import MessageLimits
from asr.model import EndpointerDelays, ModelError
from asr.pool import RecognizerPool
from asr.speech import SpeechService
from asr.streams import StreamDirectory
from domain.agents import QueueBoard
from domain.drafts import DraftTicket
from domain.speech import Purpose
from hotline.settings import Settings
from routing.places import load_gazetteer
from services.search_indexes import SearchIndexes
from services.speech_drafts import Drafting, transcript_saver
from services.ticket_intake import TicketIntake
from storage.speech import save_call_draft
from telephony.ami import AmiClient

log = logging.getLogger(__name__)


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
            settings.asr_model_dir,
            settings.asr_workers,
            settings.asr_model_sha256,
            on_result=self.service.on_result,
            endpointer=endpointer,
        )
        try:
            pool.start()
        except ModelError as exc:
            log.error("speech recognition is off: %s", exc)
            return None
        self.service.attach_pool(pool)
        return pool


def build_speech(
    settings: Settings,
    sessions: sessionmaker[Session],
    ami: AmiClient,
    board: QueueBoard,
    publish: Callable[[str, dict], None],
    indexes: SearchIndexes,
    intake: TicketIntake,
) -> Speech:
    """`board`: call control's mirror of queues and agents (a caller heard in an emergency moves up
    it); `publish`: the live hub's, for drafts on agents' screens and alerts to supervisors."""
    drafting = Drafting(sessions, indexes, load_gazetteer(settings.gazetteer_file), settings.emergency_phrases)
    directory = StreamDirectory()

    def save_live_draft(draft: DraftTicket) -> None:
        with sessions.begin() as session:
            save_call_draft(session, draft.call_id, draft.caller, asdict(draft), datetime.now(UTC))

    drafts = LiveDrafts(
        lambda stream, text: drafting.live(stream.call_id, stream.caller, text),
        board,
        publish,
        ami,
        save_live_draft,
        settings.emergency_priority,
    )
    service = SpeechService(
        directory,
        AudioStore(settings.asr_audio_dir),
        settings.spool_dir,
        transcript_saver(sessions, drafting, intake),
        drafts,
        MessageLimits(max_seconds=settings.voice_message_max_seconds),
    )
    return Speech(
        directory, service, AudioFork(ami, directory, settings.audiosocket_address), drafts, drafting, settings
    )


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
