"""Renders IVR prompt text to Asterisk's 8 kHz audio with espeak-ng and sox, cached by content."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from pathlib import Path

VOICE = "cmn"
WORDS_PER_MINUTE = 230
SOUNDS_SUBDIR = Path("usr/share/asterisk/sounds/hotline")


class PromptRenderError(RuntimeError):
    pass


def _render(text: str, target: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "raw.wav"
        for cmd in (
            ["espeak-ng", "-v", VOICE, "-s", str(WORDS_PER_MINUTE), "-w", str(raw), text],
            ["sox", str(raw), "-r", "8000", "-c", "1", "-b", "16", "-e", "signed-integer", str(target)],
        ):
            done = subprocess.run(cmd, capture_output=True, text=True)
            if done.returncode != 0:
                raise PromptRenderError(f"{cmd[0]} failed for prompt {text!r}: {done.stderr.strip()}")


def install_prompts(prompts: Mapping[str, str], asterisk_root: Path, cache_dir: Path) -> list[Path]:
    """Renders each prompt (name -> Chinese text) once per distinct text and installs it as
    sounds/hotline/<name>.wav inside the Asterisk chroot."""
    target_dir = asterisk_root / SOUNDS_SUBDIR
    target_dir.mkdir(parents=True, exist_ok=True)
    cache_dir.mkdir(parents=True, exist_ok=True)
    installed = []
    for name, text in prompts.items():
        key = hashlib.sha256(f"{VOICE}\0{WORDS_PER_MINUTE}\0{text}".encode()).hexdigest()[:24]
        cached = cache_dir / f"{key}.wav"
        if not cached.exists():
            partial = cached.with_suffix(".part.wav")
            _render(text, partial)
            partial.rename(cached)
        target = target_dir / f"{name}.wav"
        shutil.copyfile(cached, target)
        installed.append(target)
    return installed
