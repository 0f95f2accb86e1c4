"""Issue 20 item 2: prompt text reaches espeak-ng as a command-line argument, so a prompt beginning with
'-' is read as an option: "-f<file>" speaks (and publishes to every caller) a file only root can read.
Validation must refuse such prompts, and the renderer must speak the text as text (after `--` or on
standard input) or refuse it. Real espeak-ng and sox, no mocks."""

from __future__ import annotations

import array
import subprocess
import wave
from pathlib import Path

import pytest

from ivr.validation import FlowCatalogue, InvalidFlow, parse_flow_text
from telephony.prompts import SOUNDS_DIR, VOICE, WORDS_PER_MINUTE, PromptInstaller, PromptRenderError

DEFAULT = (Path(__file__).resolve().parents[2] / "ivr" / "flows" / "default.yaml").read_text(encoding="utf-8")
CATALOGUE = FlowCatalogue(("hotline-general", "hotline-business", "hotline-leaders"), ("110", "119", "120"))
SECRET = "secret words from a file only root may read"


def samples(path: Path) -> array.array:
    with wave.open(str(path)) as reader:
        assert (reader.getnchannels(), reader.getsampwidth(), reader.getframerate()) == (1, 2, 8000)
        return array.array("h", reader.readframes(reader.getnframes()))


def same_speech(a: Path, b: Path) -> bool:
    """The same audio but for sox's dither (a few least significant bits)."""
    x, y = samples(a), samples(b)
    return len(x) == len(y) and max((abs(p - q) for p, q in zip(x, y, strict=True)), default=0) <= 8


def spoken_literally(text: str, target: Path) -> Path:
    """`text` read by espeak-ng from standard input (never as options), converted as prompts are."""
    raw = target.with_suffix(".raw.wav")
    subprocess.run(
        ["espeak-ng", "-v", VOICE, "-s", str(WORDS_PER_MINUTE), "-w", str(raw), "--stdin"],
        input=text,
        text=True,
        check=True,
        capture_output=True,
    )
    subprocess.run(
        ["sox", str(raw), "-r", "8000", "-c", "1", "-b", "16", "-e", "signed-integer", str(target)],
        check=True,
        capture_output=True,
    )
    return target


def test_validation_refuses_a_prompt_beginning_with_a_dash() -> None:
    parse_flow_text(DEFAULT, CATALOGUE)  # the shipped flow is valid
    source = DEFAULT.replace("greeting: 您好，这里是一二三四五政务服务便民热线。", "greeting: -f/etc/hostname")
    assert source != DEFAULT

    with pytest.raises(InvalidFlow) as refused:
        parse_flow_text(source, CATALOGUE)

    assert [e.where for e in refused.value.errors] == ["prompts.greeting"]


def test_the_renderer_speaks_a_dash_prompt_as_text_not_as_an_option(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text(SECRET + "\n", encoding="utf-8")
    secret.chmod(0o600)
    installer = PromptInstaller(tmp_path / "root", tmp_path / "cache", lambda name: tmp_path / f"{name}.wav")
    sounds = tmp_path / "root" / SOUNDS_DIR
    prompt = f"-f{secret}"

    secret_read = sounds / f"{installer.text(SECRET)}.wav"
    try:
        rendered = sounds / f"{installer.text(prompt)}.wav"
    except PromptRenderError:
        return  # refused: also fine

    assert not same_speech(rendered, secret_read), "the prompt played the file's contents"
    assert same_speech(rendered, spoken_literally(prompt, tmp_path / "literal.wav"))
