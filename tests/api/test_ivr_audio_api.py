"""Admins upload recorded IVR prompts as WAV bodies; the API converts them with the real sox and lists them."""

from __future__ import annotations

import hashlib
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection
from sqlalchemy.orm import Session

from agent_api.app import create_app
from agent_api.context import ApiContext
from telephony.prompt_audio import MAX_UPLOAD_BYTES, PromptAudioStore

AUDIO = "/api/v1/admin/ivr/audio"
WAV = {"Content-Type": "audio/wav"}
MP3_START = b"ID3\x04\x00\x00\x00\x00\x00\x00\xff\xfb\x90\x64"  # an ID3 tag, then an MPEG frame header


@pytest.fixture
def store(tmp_path: Path) -> PromptAudioStore:
    return PromptAudioStore(tmp_path / "prompts")


def _client(connection: Connection, prompt_audio: PromptAudioStore | None) -> TestClient:
    def sessions() -> Session:
        return Session(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)

    health = lambda: {"asterisk": True, "database": True, "agi": True}  # noqa: E731
    return TestClient(create_app(ApiContext(sessions=sessions, health=health, prompt_audio=prompt_audio)))


@pytest.fixture
def api(connection: Connection, store: PromptAudioStore) -> TestClient:
    """conftest's api, with a prompt recording store (the login fixture signs in through this one)."""
    return _client(connection, store)


def tone(tmp_path: Path, seconds: float, frequency: int = 440) -> bytes:
    target = tmp_path / f"tone-{seconds}-{frequency}.wav"
    subprocess.run(
        ["sox", "-n", "-r", "44100", "-c", "2", "-b", "16", str(target), "synth", str(seconds), "sine", str(frequency)],
        check=True,
    )
    return target.read_bytes()


def test_an_admin_uploads_a_recording_and_sees_it_listed(
    api: TestClient, login: Callable[..., dict[str, str]], store: PromptAudioStore, tmp_path: Path
) -> None:
    admin = login("admin")

    reply = api.put(f"{AUDIO}/welcome", content=tone(tmp_path, 1.5), headers={**admin, **WAV})

    assert reply.status_code == 201, reply.text
    body = reply.json()
    assert body["name"] == "welcome" and body["seconds"] == pytest.approx(1.5, abs=0.05)
    assert body["sha256"] == hashlib.sha256(store.path("welcome").read_bytes()).hexdigest()
    assert api.get(AUDIO, headers=admin).json() == [body]


def test_uploading_a_name_again_replaces_the_recording(
    api: TestClient, login: Callable[..., dict[str, str]], tmp_path: Path
) -> None:
    admin = login("admin")
    first = api.put(f"{AUDIO}/welcome", content=tone(tmp_path, 1.5), headers={**admin, **WAV}).json()
    api.put(f"{AUDIO}/goodbye", content=tone(tmp_path, 1, 300), headers={**admin, **WAV})

    second = api.put(f"{AUDIO}/welcome", content=tone(tmp_path, 3, 600), headers={**admin, **WAV}).json()

    assert second["sha256"] != first["sha256"] and second["seconds"] == pytest.approx(3, abs=0.05)
    assert [a["name"] for a in api.get(AUDIO, headers=admin).json()] == ["goodbye", "welcome"]
    assert api.get(AUDIO, headers=admin).json()[1] == second


@pytest.mark.parametrize(
    ("name", "make", "message"),
    [
        ("welcome", lambda tmp: MP3_START + bytes(2000), "only WAV is accepted"),
        ("welcome", lambda tmp: tone(tmp, 0.1), "at least 0.3 s"),
        ("welcome", lambda tmp: b"", "empty"),
        ("Welcome", lambda tmp: tone(tmp, 1), "prompt name 'Welcome' is not allowed"),
    ],
    ids=["mp3", "too-short", "empty", "bad-name"],
)
def test_unusable_uploads_get_422_with_the_reason_and_store_nothing(
    api: TestClient,
    login: Callable[..., dict[str, str]],
    store: PromptAudioStore,
    tmp_path: Path,
    name: str,
    make: Callable[[Path], bytes],
    message: str,
) -> None:
    admin = login("admin")

    reply = api.put(f"{AUDIO}/{name}", content=make(tmp_path), headers={**admin, **WAV})

    assert reply.status_code == 422 and message in reply.json()["detail"], reply.text
    assert store.names() == [] and api.get(AUDIO, headers=admin).json() == []


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_a_body_over_10_mb_gets_413(
    api: TestClient, login: Callable[..., dict[str, str]], store: PromptAudioStore, chunked: bool
) -> None:
    body = bytes(MAX_UPLOAD_BYTES + 1)
    mb = 1024 * 1024
    content = (body[i : i + mb] for i in range(0, len(body), mb)) if chunked else body  # a generator goes chunked

    reply = api.put(f"{AUDIO}/welcome", content=content, headers={**login("admin"), **WAV})

    assert reply.status_code == 413 and "larger than 10 MB" in reply.json()["detail"]
    assert store.names() == []


def test_without_a_store_the_routes_say_so_with_503(
    connection: Connection, login: Callable[..., dict[str, str]], tmp_path: Path
) -> None:
    admin, bare = login("admin"), _client(connection, None)

    put = bare.put(f"{AUDIO}/welcome", content=tone(tmp_path, 1), headers={**admin, **WAV})
    listed = bare.get(AUDIO, headers=admin)

    assert put.status_code == listed.status_code == 503
    assert "prompt recordings are not configured" in put.json()["detail"]


@pytest.mark.parametrize(("role", "unit"), [("agent", None), ("supervisor", None), ("department", "zjj")])
def test_other_roles_get_403(
    api: TestClient,
    login: Callable[..., dict[str, str]],
    store: PromptAudioStore,
    tmp_path: Path,
    role: str,
    unit: str | None,
) -> None:
    headers = login(role, unit)

    put = api.put(f"{AUDIO}/welcome", content=tone(tmp_path, 1), headers={**headers, **WAV})
    listed = api.get(AUDIO, headers=headers)

    assert put.status_code == listed.status_code == 403, (put.text, listed.text)
    assert store.names() == []


def test_without_a_token_the_routes_get_401(api: TestClient, store: PromptAudioStore, tmp_path: Path) -> None:
    put = api.put(f"{AUDIO}/welcome", content=tone(tmp_path, 1), headers=WAV)

    assert put.status_code == api.get(AUDIO).status_code == 401
    assert store.names() == []
