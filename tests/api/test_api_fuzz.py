"""schemathesis over the OpenAPI description: requests generated from every route's schema, sent
as an admin and as an agent, never get a server error; every refusal is a 4xx with an `error` code and a
`detail`; and every reply is one the OpenAPI description lists for the route, in its schema. Besides what the
schemas allow, the requests carry hostile input (issue 20): lone surrogates, NUL and control characters in
text, days and times at the edges of what Python can hold (in any UTC offset), and values nested a thousand
deep."""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.checks import response_schema_conformance, status_code_conformance
from sqlalchemy import Connection
from sqlalchemy.orm import Session

from agent_api.app import create_app
from agent_api.context import ApiContext
from ivr.validation import FlowCatalogue, parse_flow_text
from services.ivr_versions import IvrAdmin
from storage.users import create_user, store_token
from telephony.prompt_audio import PromptAudioStore
from telephony.prompts import PromptInstaller

schemathesis.openapi.media_type("audio/wav", st.binary(max_size=4096))  # prompt uploads: arbitrary bytes
schema = schemathesis.pytest.from_fixture("api_schema")
NEEDS_TELEPHONY = "call control is not running"  # no Asterisk in these tests: those routes say so with a 503

# Hostile input. Days and times anywhere from year 1 to 9999, in any UTC offset (hypothesis tries the ends).
OFFSETS = st.integers(-14 * 60, 14 * 60).map(lambda minutes: timezone(timedelta(minutes=minutes)))
schemathesis.openapi.format("date", st.dates().map(date.isoformat))
schemathesis.openapi.format(
    "date-time", st.one_of(st.datetimes(timezones=OFFSETS), st.datetimes()).map(datetime.isoformat)
)
HOSTILE_TEXT = st.text(
    st.one_of(st.characters(), st.characters(categories=["Cs"]), st.sampled_from("\x00\u202e\ufeff\n")),
    min_size=1,
    max_size=12,
)
DEEP = 1000  # nesting deeper than Python's default recursion limit
NESTED = "\x00nested deep\x00"  # stands for DEEP-nested lists around a NUL, written into the JSON text


def _leaves(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if isinstance(value, dict | list) and value:
        for key, item in value.items() if isinstance(value, dict) else enumerate(value):
            yield from _leaves(item, (*path, key))
    else:
        yield path


def _replaced(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    copy = dict(value) if isinstance(value, dict) else list(value)
    copy[path[0]] = _replaced(value[path[0]], path[1:], new)
    return copy


def _as_json(value: Any) -> bytes:
    """JSON as bytes: lone surrogates go as \\ud800 escapes (they cannot be UTF-8), nesting has no limit."""
    return json.dumps(value).replace(json.dumps(NESTED), "[" * DEEP + '"\\u0000"' + "]" * DEEP).encode()


def hostile_body(_ctx: Any, body: Any) -> st.SearchStrategy[Any]:
    """The generated JSON body, or it with one value replaced by hostile text or deep nesting."""
    if not isinstance(body, dict | list):
        return st.just(body)
    hostile = st.tuples(st.sampled_from(list(_leaves(body))), st.one_of(HOSTILE_TEXT, st.just(NESTED)))
    return st.one_of(st.just(body), hostile.map(lambda change: _as_json(_replaced(body, *change))))


@pytest.fixture
def full_api(connection: Connection, tmp_path: Path) -> TestClient:
    """tests/api/conftest.py's API with IVR versions and prompt recordings too."""

    def sessions() -> Session:
        return Session(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)

    audio = PromptAudioStore(tmp_path / "audio")
    installer = PromptInstaller(tmp_path / "asterisk", tmp_path / "cache", audio.path)

    def check(source: str):
        return parse_flow_text(source, FlowCatalogue(("hotline-general",), ("110",), tuple(audio.names())))

    def install(source: str) -> None:
        installer.install(check(source).prompts)

    ivr = IvrAdmin(sessions, check, install)
    ctx = ApiContext(sessions=sessions, health=lambda: {"database": True}, ivr=ivr, prompt_audio=audio)
    return TestClient(create_app(ctx))


@pytest.fixture
def api_schema(full_api: TestClient):
    api_schema = schemathesis.openapi.from_asgi("/openapi.json", full_api.app)
    api_schema.hook("flatmap_body")(hostile_body)
    return api_schema


@pytest.fixture
def fresh_tokens(connection: Connection, full_api: TestClient) -> Callable[[], list[dict[str, str]]]:
    """New tokens for an admin and an agent, for each generated request: one that logs out (or
    anything else that revokes a token) must not turn every later request into a 401."""
    with Session(bind=connection, join_transaction_mode="create_savepoint") as session, session.begin():
        ids = [
            create_user(session, f"fuzz-{role}", "not a password hash", role, role, None).id
            for role in ("admin", "agent")
        ]

    def mint() -> list[dict[str, str]]:
        now = datetime.now(UTC)
        tokens = [secrets.token_urlsafe(24) for _ in ids]
        with Session(bind=connection, join_transaction_mode="create_savepoint") as session, session.begin():
            for token, user_id in zip(tokens, ids, strict=True):
                store_token(session, token, user_id, now, now + timedelta(hours=1))
        return [{"Authorization": f"Bearer {token}"} for token in tokens]

    return mint


@schema.parametrize()
@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_no_request_gets_a_server_error(case, fresh_tokens: Callable[[], list[dict[str, str]]]) -> None:
    # schemathesis makes up an Authorization header from the bearer scheme: ours replaces it
    case.headers = {k: v for k, v in (case.headers or {}).items() if k.lower() != "authorization"}
    for who in fresh_tokens():
        reply = case.call(headers=who)
        where = f"{case.method} {case.formatted_path} -> {reply.status_code}: {reply.text[:300]}"
        if reply.status_code == 503:
            assert NEEDS_TELEPHONY in reply.json()["detail"], where
        else:
            assert reply.status_code < 500, where
        if reply.status_code >= 400:
            body = reply.json()
            assert body.get("error") and body.get("detail"), where
        if reply.status_code != 405:  # schemathesis also tries methods a path does not have
            # The status is one the description lists for the route, the body in its schema.
            case.validate_response(reply, checks=[status_code_conformance, response_schema_conformance])
