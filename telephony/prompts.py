"""IVR prompts as sound files Asterisk reads: text rendered with espeak-ng (Mandarin) and sox to
8 kHz, uploaded recordings copied. Every file is named by its content and never overwritten, so a
call in progress on one flow version keeps hearing that version's prompts after a publish."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path

from domain.errors import UpstreamFailed
from ivr.flow import AudioPrompt, Prompt

VOICE = "cmn"
WORDS_PER_MINUTE = 230
SOUNDS_DIR = Path("usr/share/asterisk/sounds")  # inside the Asterisk chroot
PROMPT_SUBDIR = "hotline"
RENDER_TIMEOUT_SECONDS = 30


class PromptRenderError(UpstreamFailed):
    code = "prompt_render_failed"


def _run(cmd: list[str], what: str, stdin: str | None = None) -> None:
    try:
        done = subprocess.run(cmd, input=stdin, capture_output=True, text=True, timeout=RENDER_TIMEOUT_SECONDS)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise PromptRenderError(f"{cmd[0]} failed for {what}: {exc}") from None
    if done.returncode != 0:
        raise PromptRenderError(f"{cmd[0]} failed for {what}: {done.stderr.strip()}")


def _render(text: str, target: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "raw.wav"
        # On standard input, never on the command line: a prompt beginning with '-' would be read as an option.
        _run(
            ["espeak-ng", "-v", VOICE, "-s", str(WORDS_PER_MINUTE), "-w", str(raw), "--stdin"],
            f"prompt {text!r}",
            stdin=text,
        )
        _run(
            ["sox", str(raw), "-r", "8000", "-c", "1", "-b", "16", "-e", "signed-integer", str(target)],
            f"prompt {text!r}",
        )


def _place(target: Path, write: Callable[[Path], object]) -> None:
    """Writes a content-named file once: to a private temporary name, then renamed into place."""
    if target.exists():
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, partial = tempfile.mkstemp(dir=target.parent, prefix=".part-", suffix=".wav")
    os.close(fd)
    try:
        write(Path(partial))
        os.replace(partial, target)
    finally:
        Path(partial).unlink(missing_ok=True)


def text_sound(text: str) -> tuple[str, str]:
    """(cache key, sound name) of a text prompt: named by the text and the voice that renders it."""
    key = hashlib.sha256(f"{VOICE}\0{WORDS_PER_MINUTE}\0{text}".encode()).hexdigest()[:24]
    return key, f"{PROMPT_SUBDIR}/t-{key}"


class PromptInstaller:
    """Installs prompts into one Asterisk chroot. Text is rendered once per distinct text (the
    cache survives reinstalls of the chroot); the sound name a call plays is returned."""

    def __init__(self, asterisk_root: Path, cache_dir: Path, audio_file: Callable[[str], Path]):
        self._sounds = asterisk_root / SOUNDS_DIR
        self._cache = cache_dir
        self._audio_file = audio_file  # where an uploaded recording (already 8 kHz) of that name is kept

    def text(self, text: str) -> str:
        key, name = text_sound(text)
        cached = self._cache / f"{key}.wav"
        _place(cached, lambda partial: _render(text, partial))
        _place(self._sounds / f"{name}.wav", lambda partial: shutil.copyfile(cached, partial))
        return name

    def recording(self, audio: str) -> str:
        source = self._audio_file(audio)
        if not source.is_file():
            raise PromptRenderError(f"no uploaded recording '{audio}'")
        data = source.read_bytes()
        name = f"{PROMPT_SUBDIR}/a-{hashlib.sha256(data).hexdigest()[:24]}"
        _place(self._sounds / f"{name}.wav", lambda partial: partial.write_bytes(data))
        return name

    def install(self, prompts: Mapping[str, Prompt]) -> dict[str, str]:
        """Prompt name -> the sound name to play, every file in place. Safe to run concurrently:
        each file is written under a private name and renamed into place."""
        return {
            name: self.recording(p.audio) if isinstance(p, AudioPrompt) else self.text(p) for name, p in prompts.items()
        }
