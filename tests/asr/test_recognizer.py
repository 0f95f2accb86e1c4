"""Loading the real Korean model and streaming Korean speech through one reused recognizer."""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path

import pytest
import vosk

from asr.model import EndpointerDelays, ModelError, load_model
from asr.recognizer import StreamRecognizer, Utterance, frame_bytes
from tests.asr.conftest import HANGUL, KOREAN_MODEL, corrupt_copy, pcm, silence, two_requests

Streamed = tuple[list[Utterance], Utterance | None]


def stream(recognizer: StreamRecognizer, audio: bytes) -> tuple[list[Utterance], Utterance | None]:
    return recognizer.feed_frames(audio), recognizer.finish()


def finals_text(results: list[Utterance], last: Utterance | None) -> str:
    return " ".join(u.text for u in [*results, *([last] if last else [])] if u.final)


@pytest.fixture(scope="module")
def streamed(model: vosk.Model) -> Streamed:
    """two_requests() through one StreamRecognizer, 20 ms at a time."""
    return stream(StreamRecognizer(model), two_requests())


def test_one_recognizer_hears_two_utterances_in_korean(streamed: Streamed) -> None:
    results, last = streamed
    finals = [u for u in results if u.final]
    assert len(finals) == 2 and last is None  # both ended by Kaldi's endpointer, in the pauses
    assert all(HANGUL.search(u.text) for u in finals), finals
    first_pause = len(pcm("ko_road")) / 32000
    assert first_pause < finals[0].end_seconds < first_pause + 1.2
    assert finals[0].end_seconds < finals[1].end_seconds < len(two_requests()) / 32000
    partials = [u for u in results if not u.final]
    assert partials and partials[0].end_seconds < finals[0].end_seconds
    assert all(a.text != b.text for a, b in pairwise(partials))  # only changes are reported


def test_transcribe_equals_the_finals_of_streaming(streamed: Streamed, transcribed: str) -> None:
    assert HANGUL.search(transcribed)
    assert transcribed == finals_text(*streamed)


def test_a_restarted_recognizer_gives_what_a_new_one_gives(model: vosk.Model, transcribed: str) -> None:
    used = StreamRecognizer(model)
    stream(used, pcm("ko_power") + silence(1))
    used.restart()
    assert used.seconds == 0
    assert finals_text(*stream(used, two_requests())) == transcribed
    assert used.lifetime_seconds == (len(pcm("ko_power") + silence(1)) + len(two_requests())) / 32000


def test_a_half_sample_waits_for_the_next_feed(model: vosk.Model) -> None:
    recognizer = StreamRecognizer(model)
    audio = pcm("ko_road")
    recognizer.feed(audio[:1])
    assert recognizer.seconds == 0
    recognizer.feed(audio[1 : frame_bytes(16000)])
    assert recognizer.seconds == 0.02


def test_shorter_endpointer_delays_end_utterances_sooner(streamed: Streamed) -> None:
    quick = load_model(KOREAN_MODEL, endpointer=EndpointerDelays(end=0.2))
    default = [u for u in streamed[0] if u.final]
    sooner = [u for u in StreamRecognizer(quick).feed_frames(two_requests()) if u.final]
    assert len(sooner) == len(default) == 2
    assert sooner[0].end_seconds < default[0].end_seconds


def test_a_corrupt_model_is_a_model_error(tmp_path: Path) -> None:
    broken = corrupt_copy(tmp_path)
    with pytest.raises(ModelError, match=f"Vosk could not load the model in {broken}"):
        load_model(broken)
