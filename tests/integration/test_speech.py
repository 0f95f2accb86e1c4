"""Caller speech through the real Asterisk (AudioSocket) to the real Vosk model: live drafts for the
agent, emergency phrases, voice messages that become tickets and callbacks, and ASR down mid-call.

The callers speak Korean (espeak-ng): the Korean model is the real model these machines can get.
The audio that reaches us must follow what the caller played, and its transcript must be what the
model makes of that audio offline."""

from __future__ import annotations

import asyncio
import wave
from collections.abc import Callable
from pathlib import Path
from statistics import StatisticsError, correlation

import pytest
import vosk
from sqlalchemy import select

from asr.message_end import rms
from asr.model import load_model
from asr.recognizer import transcribe
from domain.speech import Transcript
from routing.text import join_cjk
from storage.callbacks import list_callbacks
from storage.speech import load_call_draft, transcripts_of_call
from storage.tables import TicketRow
from storage.tickets import load_ticket
from tests.integration.conftest import KOREAN_MODEL, Hotline, SpeechRig, prompt_sound
from tests.integration.events import is_event

pytestmark = pytest.mark.integration

SENTENCE = "집에 불이 났어요 빨리 와 주세요"


@pytest.fixture(scope="module")
def model() -> vosk.Model:
    return load_model(KOREAN_MODEL)


def envelope(pcm: bytes) -> list[float]:
    """Loudness of each 20 ms of 16 kHz audio."""
    return [rms(pcm[i : i + 640]) for i in range(0, len(pcm) - 639, 640)]


def fidelity(received: bytes, sent: Path) -> float:
    """How well the audio that reached us follows the audio the caller played: the best correlation of
    their loudness over 20 ms frames, at any offset from -1 s to +4 s (1.0: the same shape)."""
    with wave.open(str(sent)) as audio:
        source = envelope(audio.readframes(audio.getnframes()))
    heard = envelope(received)
    best = 0.0
    for lag in range(-50, 200):
        a, b = source[max(0, -lag) :], heard[max(0, lag) :]
        n = min(len(a), len(b))
        if n < len(source) // 2:
            continue
        try:
            best = max(best, correlation(a[:n], b[:n]))
        except StatisticsError:  # a stretch of constant loudness
            continue
    return best


def assert_decoded_as_received(model: vosk.Model, text: str, audio_path: str, sent: Path) -> None:
    """The stream's audio is the caller's speech, and its transcript is what the model makes of it."""
    received = Path(audio_path).read_bytes()
    assert fidelity(received, sent) >= 0.9
    assert text and text == transcribe(model, received)


async def speak(hotline: Hotline, caller_end: str, sound: str, hold: int = 30) -> None:
    """Sends the caller's end to say `sound`, then stay on the line."""
    await hotline.ami.setvar(caller_end, "SIM_AUDIO", sound)
    await hotline.ami.setvar(caller_end, "SIM_HOLD", str(hold))
    await hotline.ami.redirect(caller_end, "caller-speaks", "s")


async def leave_voice_message(hotline: Hotline, agi_url: str, sound: str, caller: str) -> str:
    """A caller who hears the long-wait offer, presses 1 and says `sound`; returns the call's uniqueid
    once the message has ended (by the caller's silence) and the IVR thanks them."""
    since = hotline.events.mark()
    uniqueid, caller_end = await hotline.call(caller, hold_seconds=60, HOTLINE_AGI_URL=agi_url)

    def agi_runs(command: str):
        return lambda e: (
            e.get("Event") == "AGIExecStart"
            and e.get("Uniqueid") == uniqueid
            and e.get("Command", "").startswith(command)
        )

    await hotline.events.wait_for(agi_runs(f"STREAM FILE {prompt_sound('long_wait_offer')}"), timeout=20, since=since)
    await hotline.ami.play_dtmf(caller_end, "1")
    await hotline.events.wait_for(agi_runs("EXEC Dial"), timeout=30, since=since)
    await speak(hotline, caller_end, sound)
    await hotline.events.wait_for(agi_runs(f"STREAM FILE {prompt_sound('message_thanks')}"), timeout=40, since=since)
    return uniqueid


async def forked(hotline: Hotline, since: int) -> None:
    """Waits until the caller's audio fork is up (its AudioSocket channel spies on the caller)."""
    await hotline.events.wait_for(
        lambda e: (
            e.get("Event") == "OriginateResponse"
            and e.get("Response") == "Success"
            and e.get("Channel", "").startswith("AudioSocket/")
        ),
        timeout=30,
        since=since,  # after the greeting and the emergency notice
    )


async def eventually(read, timeout: float = 30):
    """`read()` (a database read, run off the event loop) once it returns something truthy."""
    async with asyncio.timeout(timeout):
        while not (found := await asyncio.to_thread(read)):
            await asyncio.sleep(0.2)
    return found


async def messages(queue: asyncio.Queue[dict], kind: str, until, timeout: float) -> list[dict]:
    """Messages of `kind` from a hub queue until one satisfies `until`."""
    got: list[dict] = []
    async with asyncio.timeout(timeout):
        while True:
            message = await queue.get()
            if message.get("type") == kind:
                got.append(message)
                if until(message):
                    return got


@pytest.fixture(scope="module")
def sentence(speech: SpeechRig) -> tuple[str, Path]:
    """The sentence as the callers play it, and as 16 kHz audio on the host."""
    return speech.say("fire", SENTENCE)


async def queued_caller_speaks(hotline: Hotline, sound: str) -> str:
    """A caller waiting in the queue says `sound` and hangs up; returns the call's uniqueid."""
    since = hotline.events.mark()
    uniqueid, caller_end = await hotline.call(hotline.new_caller(), hold_seconds=60)
    await forked(hotline, since)
    await speak(hotline, caller_end, sound, hold=2)
    await hotline.events.wait_for(is_event("Hangup", Uniqueid=uniqueid), timeout=30, since=since)
    return uniqueid


def transcripts_of(hotline: Hotline, uniqueid: str) -> Callable[[], list[Transcript]]:
    def read() -> list[Transcript]:
        with hotline.databases["sqlite"]() as session:
            return transcripts_of_call(session, uniqueid)

    return read


async def test_a_queued_callers_speech_becomes_a_live_draft_and_a_stored_transcript(
    hotline: Hotline, speech: SpeechRig, sentence: tuple[str, Path], model: vosk.Model
) -> None:
    sound, sent = sentence
    uniqueid = await queued_caller_speaks(hotline, sound)
    transcripts = await eventually(transcripts_of(hotline, uniqueid))
    assert [(t.purpose, t.source) for t in transcripts] == [("call", "live")]
    heard = transcripts[0]
    assert_decoded_as_received(model, heard.text, heard.audio_path, sent)
    assert heard.audio_seconds == pytest.approx(Path(heard.audio_path).stat().st_size / 32000, abs=0.01)
    with hotline.databases["sqlite"]() as session:
        draft = await asyncio.to_thread(load_call_draft, session, uniqueid)
    assert draft is not None and draft.draft["transcript"] == join_cjk(heard.text)
    HEARD.append(heard.text)


HEARD: list[str] = []  # what the model heard of the sentence through Asterisk, for the emergency test


async def test_an_emergency_phrase_moves_the_caller_up_and_alerts_supervisors(
    hotline: Hotline, speech: SpeechRig, sentence: tuple[str, Path]
) -> None:
    sound, _ = sentence
    if not HEARD:  # run on its own: learn what the model hears of the sentence through Asterisk
        uniqueid = await queued_caller_speaks(hotline, sound)
        HEARD.append((await eventually(transcripts_of(hotline, uniqueid)))[0].text)
    drafting = speech.speech.drafting
    configured = drafting.emergency_phrases
    # The callers speak Korean, so the emergency list gets the Korean words heard in the sentence;
    # the Chinese phrases themselves are tested on text (tests/unit/test_emergency.py).
    words = tuple(w for w in HEARD[0].split() if len(w) > 1)
    drafting.set_emergency_phrases((*configured, *words))
    alerts = hotline.hub.subscribe(["supervisors"])
    try:
        since = hotline.events.mark()
        first_id, _ = await hotline.call(hotline.new_caller(), hold_seconds=60)
        await forked(hotline, since)
        since = hotline.events.mark()
        urgent_id, urgent_end = await hotline.call(hotline.new_caller(), hold_seconds=60)
        await forked(hotline, since)
        assert await positions(hotline) == {first_id: "1", urgent_id: "2"}

        await speak(hotline, urgent_end, sound)
        alert = (await messages(alerts, "emergency_alert", lambda m: m["call_id"] == urgent_id, timeout=30))[-1]
        assert set(alert["phrases"]) <= set(words) and alert["phrases"]
        assert (alert["waiting"], alert["queue"]) == (True, "hotline-general")
        async with asyncio.timeout(5):
            while await positions(hotline) != {urgent_id: "1", first_id: "2"}:
                await asyncio.sleep(0.1)
        assert (draft := speech.speech.drafts.draft_of(urgent_id)) is not None and draft["urgent"] is True
    finally:
        hotline.hub.unsubscribe(alerts)
        drafting.set_emergency_phrases(configured)


async def positions(hotline: Hotline) -> dict[str, str]:
    """Each waiting caller's place in the queue, by uniqueid."""
    return {e["Uniqueid"]: e["Position"] for e in await hotline.ami.queue_status() if e.get("Event") == "QueueEntry"}


async def test_a_voice_message_becomes_a_recording_a_transcript_a_draft_ticket_and_a_callback(
    hotline: Hotline, speech: SpeechRig, sentence: tuple[str, Path], model: vosk.Model
) -> None:
    sound, sent = sentence
    caller = hotline.new_caller()
    uniqueid = await leave_voice_message(hotline, speech.agi_url, sound, caller)
    await hotline.events.wait_for(is_event("Hangup", Uniqueid=uniqueid), timeout=30)

    def stored():
        with hotline.databases["sqlite"]() as session:
            transcripts = transcripts_of_call(session, uniqueid)
            number = session.scalar(
                select(TicketRow.number).where(TicketRow.state["call_uniqueid"].as_string() == uniqueid)
            )
            tasks = [t for t in list_callbacks(session) if t.call_uniqueid == uniqueid]
            ticket = load_ticket(session, number) if number else None
        return (transcripts, ticket, tasks) if transcripts and ticket and tasks else None

    transcripts, ticket, tasks = await eventually(stored)
    assert [t.purpose for t in transcripts] == ["voice_message"]
    message = transcripts[0]
    assert_decoded_as_received(model, message.text, message.audio_path, sent)
    assert 3.0 < message.audio_seconds < 15.0  # ended by the caller's silence, not the 30 s limit
    assert (ticket.status, ticket.recording, ticket.caller_number) == ("draft", message.audio_path, caller)
    assert ticket.content == join_cjk(message.text)
    assert [(t.reason, t.ticket_number, t.caller_number, t.status) for t in tasks] == [
        ("voice_message", ticket.number, caller, "open")
    ]


async def test_asr_stopped_mid_call_the_transcript_appears_once_after_restart(
    hotline: Hotline, speech: SpeechRig, sentence: tuple[str, Path], model: vosk.Model
) -> None:
    sound, sent = sentence
    service = speech.speech.service
    since = hotline.events.mark()
    uniqueid, caller_end = await hotline.call(hotline.new_caller(), hold_seconds=60)
    await forked(hotline, since)
    await speak(hotline, caller_end, sound, hold=2)
    await asyncio.sleep(1.0)
    service.stop_pool()  # ASR goes down while the caller speaks
    await hotline.events.wait_for(is_event("Hangup", Uniqueid=uniqueid), timeout=30, since=since)
    await asyncio.sleep(1.0)
    stored = transcripts_of(hotline, uniqueid)
    assert await asyncio.to_thread(stored) == []
    assert service.pending_jobs() >= 1

    assert await asyncio.to_thread(speech.speech.start_pool) is not None  # ASR is back
    transcripts = await eventually(stored, timeout=60)
    assert [t.source for t in transcripts] == ["catch_up"]
    assert_decoded_as_received(model, transcripts[0].text, transcripts[0].audio_path, sent)
    await asyncio.sleep(5)  # two more rounds of the catch-up loop, which must not transcribe it again
    assert len(await asyncio.to_thread(stored)) == 1
    assert service.pending_jobs() == 0
