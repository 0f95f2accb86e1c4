"""Uploaded IVR prompt recordings: checked and converted with sox to Asterisk's 8 kHz mono 16-bit WAV, stored by name.

Flows refer to a recording by its name, so re-uploading a name replaces it; content-addressed copies for Asterisk
are installed when a flow is published."""

from __future__ import annotations

import hashlib
import io
import os
import re
import subprocess
import tempfile
import wave
from dataclasses import dataclass
from pathlib import Path

from domain.errors import Invalid

MAX_UPLOAD_BYTES = 10 * 1024 * 1024
MIN_SECONDS = 0.3
MAX_SECONDS = 120.0
SILENCE_DBFS = -45.0  # a peak below this is a blank or nearly blank recording
SOX_TIMEOUT_SECONDS = 30
RATE = 8000
NAME = re.compile(r"[a-z][a-z0-9_]{0,39}")  # fullmatch: `$` would allow a final newline


class PromptAudioError(Invalid, ValueError):
    """An upload or name we cannot accept; the message says what is wrong and what to do."""

    code = "recording_invalid"


@dataclass(frozen=True)
class ConvertedAudio:
    wav: bytes  # 8 kHz, mono, 16-bit signed PCM WAV
    seconds: float


@dataclass(frozen=True)
class StoredAudio:
    name: str
    sha256: str  # of the converted WAV's bytes
    seconds: float
    path: Path


def convert_upload(data: bytes) -> ConvertedAudio:
    """Checks an uploaded WAV and converts it to Asterisk's format, normalised to a -3 dBFS peak."""
    if not data:
        raise PromptAudioError("the upload is empty: send the WAV file as the request body")
    if len(data) > MAX_UPLOAD_BYTES:
        raise PromptAudioError(
            f"the upload is {len(data) / 1024 / 1024:.1f} MB; the limit is {MAX_UPLOAD_BYTES // 1024 // 1024} MB: "
            "shorten the recording or save it as mono 16-bit WAV"
        )
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise PromptAudioError(
            "the upload is not a WAV file (no RIFF/WAVE header); only WAV is accepted: export the recording as WAV "
            "(for example 16-bit PCM) and upload that"
        )
    with tempfile.TemporaryDirectory(prefix="prompt-audio-") as tmp:
        source, target = Path(tmp) / "upload.wav", Path(tmp) / "converted.wav"
        source.write_bytes(data)
        seconds, peak_dbfs = _inspect(source)
        if seconds < MIN_SECONDS:
            raise PromptAudioError(
                f"the recording is {seconds:.2f} s long; prompts must be at least {MIN_SECONDS} s: "
                "upload the whole prompt"
            )
        if seconds > MAX_SECONDS:
            raise PromptAudioError(
                f"the recording is {seconds:.1f} s long; prompts may be at most {MAX_SECONDS:.0f} s: "
                "split it into shorter prompts"
            )
        if peak_dbfs < SILENCE_DBFS:
            raise PromptAudioError(
                f"the recording is silent (its loudest sample is {peak_dbfs:.1f} dBFS, below {SILENCE_DBFS:.0f} dBFS): "
                "check the microphone and record it again"
            )
        _sox(
            "-R",
            "-t",
            "wav",
            str(source),
            "-t",
            "wav",
            "-b",
            "16",
            "-e",
            "signed-integer",
            str(target),
            "channels",
            "1",
            "rate",
            str(RATE),
            "norm",
            "-3",
        )
        wav = target.read_bytes()
    return ConvertedAudio(wav=wav, seconds=_seconds(wav))


def _inspect(source: Path) -> tuple[float, float]:
    """The recording's length in seconds and its peak level in dBFS, as sox's stats effect reads them."""
    stderr = _sox("-t", "wav", str(source), "-n", "stats")
    if "Premature EOF" in stderr:
        raise PromptAudioError(
            "the WAV file ends before its header says it should (truncated or damaged): upload the complete file again"
        )
    length, peak = re.search(r"^Length s\s+(\S+)", stderr, re.M), re.search(r"^Pk lev dB\s+(\S+)", stderr, re.M)
    if length is None or peak is None:  # sox read no samples at all
        return 0.0, float("-inf")
    return float(length[1]), float(peak[1])


def _sox(*args: str) -> str:
    """Runs sox (no shell) and returns what it wrote to stderr, where its warnings and the stats effect go."""
    try:
        done = subprocess.run(["sox", *args], capture_output=True, text=True, timeout=SOX_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        raise PromptAudioError(
            f"sox did not finish with the recording within {SOX_TIMEOUT_SECONDS} s: export it again as plain PCM WAV"
        ) from None
    if done.returncode != 0:
        reason = re.sub(r"`[^']*'", "the upload", done.stderr.strip().removeprefix("sox FAIL "))  # not our temp path
        raise PromptAudioError(f"sox cannot read the WAV file ({reason}); it is corrupt or truncated: export it again")
    return done.stderr


def _seconds(wav: bytes) -> float:
    with wave.open(io.BytesIO(wav)) as reader:
        return round(reader.getnframes() / reader.getframerate(), 3)


def check_name(name: str) -> str:
    if not NAME.fullmatch(name):
        raise PromptAudioError(
            f"prompt name {name!r} is not allowed: use a lowercase letter, then up to 39 lowercase letters, digits "
            "or underscores (like welcome_2)"
        )
    return name


class PromptAudioStore:
    """Converted recordings as <directory>/<name>.wav; each save replaces the file atomically."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def path(self, name: str) -> Path:
        return self.directory / f"{check_name(name)}.wav"

    def save(self, name: str, audio: ConvertedAudio) -> StoredAudio:
        target = self.path(name)
        self.directory.mkdir(parents=True, exist_ok=True)
        fd, partial = tempfile.mkstemp(dir=self.directory, prefix=f".{name}.", suffix=".part")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(audio.wav)
                out.flush()
                os.fsync(out.fileno())
            os.replace(partial, target)
        except BaseException:
            Path(partial).unlink(missing_ok=True)
            raise
        return StoredAudio(name, hashlib.sha256(audio.wav).hexdigest(), audio.seconds, target)

    def get(self, name: str) -> StoredAudio | None:
        target = self.path(name)
        try:
            wav = target.read_bytes()
        except FileNotFoundError:
            return None
        return StoredAudio(name, hashlib.sha256(wav).hexdigest(), _seconds(wav), target)

    def names(self) -> list[str]:
        if not self.directory.is_dir():
            return []
        return sorted(p.stem for p in self.directory.glob("*.wav") if NAME.fullmatch(p.stem))
