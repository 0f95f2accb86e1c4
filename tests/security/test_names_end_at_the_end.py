"""Issue 20 item 10: names checked with a Python regex ending in `$` accept a trailing newline (`$` also
matches just before a final "\\n"). A recording named "greeting\\n" must be refused like any other bad
name, and so must a department phone "9001\\n"."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from routing.departments import InvalidDepartments, parse_departments
from telephony.prompt_audio import PromptAudioError, PromptAudioStore, check_name


def tone(tmp_path: Path) -> bytes:
    target = tmp_path / "tone.wav"
    subprocess.run(
        ["sox", "-n", "-r", "8000", "-c", "1", "-b", "16", str(target), "synth", "1", "sine", "440"], check=True
    )
    return target.read_bytes()


def test_a_recording_name_with_a_trailing_newline_is_refused(
    make_api: Callable[..., TestClient], login: Callable[..., dict[str, str]], tmp_path: Path
) -> None:
    store = PromptAudioStore(tmp_path / "prompts")
    api = make_api(prompt_audio=store)
    admin = {**login("admin", client=api), "Content-Type": "audio/wav"}
    assert api.put("/api/v1/admin/ivr/audio/greeting", content=tone(tmp_path), headers=admin).status_code == 201

    reply = api.put("/api/v1/admin/ivr/audio/greeting%0A", content=tone(tmp_path), headers=admin)

    assert 400 <= reply.status_code < 500, reply.text
    assert sorted(p.name for p in store.directory.iterdir()) == ["greeting.wav"]


def test_check_name_refuses_a_trailing_newline() -> None:
    assert check_name("greeting") == "greeting"
    with pytest.raises(PromptAudioError):
        check_name("greeting\n")


def test_a_department_phone_with_a_trailing_newline_is_refused() -> None:
    department = {"code": "D001", "name": "市住建局", "duties": "物业管理", "phone": "9001"}
    parse_departments([department])

    with pytest.raises(InvalidDepartments):
        parse_departments([{**department, "phone": "9001\n"}])
