"""Uploaded prompt recordings through the real sox: checks, conversion to Asterisk's format, the store."""

from __future__ import annotations

import array
import hashlib
import io
import math
import os
import subprocess
import wave
from pathlib import Path

import pytest

from telephony.prompt_audio import MAX_UPLOAD_BYTES, ConvertedAudio, PromptAudioError, PromptAudioStore, convert_upload


def synth(tmp_path: Path, seconds: float, *effect: str, rate: int = 44100, channels: int = 2, bits: int = 16) -> bytes:
    """A WAV made by sox's synth effect, e.g. synth(tmp_path, 1.5, "sine", "440")."""
    sources = tmp_path / "sources"
    sources.mkdir(exist_ok=True)
    target = sources / f"{len(list(sources.iterdir()))}.wav"
    generator = ["synth", str(seconds), *effect] if effect else ["trim", "0", str(seconds)]
    subprocess.run(
        ["sox", "-n", "-r", str(rate), "-c", str(channels), "-b", str(bits), str(target), *generator], check=True
    )
    return target.read_bytes()


def peak_dbfs(wav: bytes) -> float:
    with wave.open(io.BytesIO(wav)) as reader:
        samples = array.array("h", reader.readframes(reader.getnframes()))
    return 20 * math.log10(max(abs(s) for s in samples) / 32768)


def test_a_stereo_44k_tone_becomes_8k_mono_16bit_of_the_same_length_at_minus_3_dbfs(tmp_path: Path) -> None:
    converted = convert_upload(synth(tmp_path, 1.5, "sine", "440", "vol", "0.2"))

    with wave.open(io.BytesIO(converted.wav)) as reader:
        assert (reader.getframerate(), reader.getnchannels(), reader.getsampwidth()) == (8000, 1, 2)
        assert reader.getnframes() / 8000 == pytest.approx(1.5, abs=0.05)
    assert converted.seconds == pytest.approx(1.5, abs=0.05)
    assert peak_dbfs(converted.wav) == pytest.approx(-3.0, abs=0.1)
    out = tmp_path / "out.wav"
    out.write_bytes(converted.wav)
    soxi = {
        flag: subprocess.run(["soxi", flag, str(out)], capture_output=True, text=True, check=True).stdout.strip()
        for flag in ("-r", "-c", "-b", "-e", "-D")
    }
    assert soxi["-r"] == "8000" and soxi["-c"] == "1" and soxi["-b"] == "16"
    assert soxi["-e"] == "Signed Integer PCM"
    assert float(soxi["-D"]) == pytest.approx(1.5, abs=0.05)


def test_other_wav_formats_and_quiet_speech_levels_are_accepted(tmp_path: Path) -> None:
    quiet_24bit = convert_upload(synth(tmp_path, 2, "sine", "300", "vol", "0.01", rate=48000, channels=1, bits=24))
    eight_bit_8k = convert_upload(synth(tmp_path, 0.5, "sine", "500", rate=8000, channels=1, bits=8))

    assert quiet_24bit.seconds == pytest.approx(2, abs=0.05)
    assert peak_dbfs(quiet_24bit.wav) == pytest.approx(-3.0, abs=0.1)
    assert eight_bit_8k.seconds == pytest.approx(0.5, abs=0.05)


def test_the_same_upload_converts_to_the_same_bytes(tmp_path: Path) -> None:
    upload = synth(tmp_path, 1, "sine", "440")

    assert convert_upload(upload).wav == convert_upload(upload).wav


def _truncated(tmp_path: Path) -> bytes:
    whole = synth(tmp_path, 2, "sine", "440")
    return whole[: len(whole) // 3]


def _too_big(_: Path) -> bytes:
    return b"RIFF\x00\x00\x00\x00WAVE" + bytes(MAX_UPLOAD_BYTES)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda _: b"", "empty"),
        (_too_big, "the limit is 10 MB"),
        (lambda _: os.urandom(4000), "not a WAV file"),
        (lambda _: b"ID3\x04\x00\x00\x00\x00\x00\x00" + b"\xff\xfb\x90\x64" + os.urandom(4000), "only WAV is accepted"),
        (lambda _: b"RIFF\x00\x10\x00\x00WAVE" + os.urandom(4000), "sox cannot read the WAV file"),
        (_truncated, "truncated"),
        (lambda tmp: synth(tmp, 0.1, "sine", "440"), "at least 0.3 s"),
        (lambda tmp: synth(tmp, 125, "sine", "440", rate=8000, channels=1), "at most 120 s"),
        (lambda tmp: synth(tmp, 1), "silent"),
        (lambda tmp: synth(tmp, 1, "sine", "440", "vol", "0.003"), "silent"),  # about -50 dBFS
    ],
    ids=["empty", "too-big", "random", "mp3", "riff-garbage", "truncated", "too-short", "too-long", "silent", "hiss"],
)
def test_unusable_uploads_are_refused_with_the_reason(tmp_path: Path, make, message: str) -> None:
    with pytest.raises(PromptAudioError, match=message):
        convert_upload(make(tmp_path))


@pytest.fixture
def tone(tmp_path: Path) -> ConvertedAudio:
    return convert_upload(synth(tmp_path, 1, "sine", "440"))


def test_a_saved_recording_reads_back_by_name(tmp_path: Path, tone: ConvertedAudio) -> None:
    store = PromptAudioStore(tmp_path / "prompts")

    saved = store.save("welcome_2", tone)

    assert saved.path == store.path("welcome_2") == tmp_path / "prompts" / "welcome_2.wav"
    assert saved.path.read_bytes() == tone.wav
    assert saved.sha256 == hashlib.sha256(tone.wav).hexdigest()
    assert store.get("welcome_2") == saved
    assert store.names() == ["welcome_2"]
    assert store.get("goodbye") is None


def test_uploading_a_name_again_replaces_its_recording_and_leaves_no_partial_files(
    tmp_path: Path, tone: ConvertedAudio
) -> None:
    store = PromptAudioStore(tmp_path)
    store.save("welcome", tone)
    longer = convert_upload(synth(tmp_path, 2.5, "sine", "300"))

    replaced = store.save("welcome", longer)

    assert store.get("welcome") == replaced and replaced.seconds == pytest.approx(2.5, abs=0.05)
    assert replaced.sha256 == hashlib.sha256(longer.wav).hexdigest() != hashlib.sha256(tone.wav).hexdigest()
    assert store.names() == ["welcome"]
    assert not list(tmp_path.glob(".*"))


def test_a_store_that_was_never_written_is_empty(tmp_path: Path) -> None:
    assert PromptAudioStore(tmp_path / "missing").names() == []


@pytest.mark.parametrize("name", ["", "Welcome", "1st", "_x", "../welcome", "a-b", "a" * 41, "welcome.wav"])
def test_names_outside_the_pattern_are_refused(tmp_path: Path, tone: ConvertedAudio, name: str) -> None:
    store = PromptAudioStore(tmp_path / "prompts")

    with pytest.raises(PromptAudioError, match="not allowed"):
        store.save(name, tone)
    with pytest.raises(PromptAudioError, match="not allowed"):
        store.get(name)
    assert not (tmp_path / "prompts").exists()
