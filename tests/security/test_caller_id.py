"""Issue 20 item 4: a barred caller gets through with CR/LF in the caller ID. A SIP From user of
`13911112222%0d%0aX:%20y` breaks the AGI environment, the dialplan falls back to the default queue, and
the barred caller is queued. The dialplan must filter the caller ID before AGI (digits and '+' only,
bounded), and the barred check must hold even when the AGI fails (a barred list the dialplan reads
itself, e.g. AstDB written by our service), so failing open never queues a barred number.

Real Asterisk and SIPp, through tests/integration/conftest.py's fixtures, on an Asterisk instance and
ports of its own ("hotline-security"), so these tests can share a pytest session with tests/integration
(whose instance is "hotline-test"). Run them under `flock /tmp/hotline-integration.lock`."""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import socket
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker

from hotline.settings import Settings
from storage.barred_callers import bar_caller
from storage.database import make_engine, make_session_factory
from storage.migrate import upgrade_database
from tests.integration.conftest import TEST_ENV, Hotline, agi_server, asterisk, hotline, no_calls_left_over  # noqa: F401  (fixtures, resolved against this module's settings)
from tests.integration.events import Event
from tests.integration.sip_peers import carrier_call

pytestmark = pytest.mark.integration

SECURITY_ENV = {
    **TEST_ENV,
    "HOTLINE_ASTERISK_INSTANCE": "hotline-security",
    "HOTLINE_SIP_PORT": "25060",
    "HOTLINE_AMI_PORT": "25038",
    "HOTLINE_AGI_PORT": "24573",
    "HOTLINE_API_PORT": "28000",
    "HOTLINE_RTP_PORT_START": "22000",
    "HOTLINE_RTP_PORT_END": "22999",
    "HOTLINE_CARRIER_URI": "sip:127.0.0.1:25070",
    "HOTLINE_EMERGENCY_TARGETS": json.dumps({n: f"sip:{n}@127.0.0.1:25{n}" for n in ("110", "119", "120")}),
}
BARRED = "13911112222"
CRLF_CALLER = f"{BARRED}%0d%0aX:%20y"  # the From user as the carrier sends it: CR LF "X: y" after the number
PORTS = itertools.count(26000, 10)


@pytest.fixture(scope="session")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    db = tmp_path_factory.mktemp("security-db") / "hotline.db"
    env = {**SECURITY_ENV, "HOTLINE_DATABASE_URL": f"sqlite:///{db}"}
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)  # scripts/asterisk.sh renders the config from these (as tests/integration does)
    yield Settings()
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture(scope="session")
def databases(settings: Settings) -> dict[str, sessionmaker[Session]]:
    """The IVR reads the barred list from SQLite; call records go there too."""
    upgrade_database(settings.database_url)
    return {"sqlite": make_session_factory(make_engine(settings.database_url))}


@pytest.fixture
def port() -> int:
    return next(PORTS)


def unused_tcp_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def bar(hotline: Hotline, number: str) -> None:
    now = datetime.now(UTC)
    with hotline.databases["sqlite"].begin() as session:
        bar_caller(session, number, "辱骂话务员", "supervisor-1", now, now + timedelta(days=30))
    # Whatever keeps a copy of the barred list (the IVR's snapshot, a list the dialplan reads) may take its
    # own refresh period to see the new bar.
    await asyncio.sleep(hotline.settings.barred_list_max_age_seconds + 1)


async def queued_or_ended(hotline: Hotline, uniqueid: str, since: int, timeout: float) -> Event:
    """The call's QueueCallerJoin (it was queued) or its Hangup, whichever comes first."""
    return await hotline.events.wait_for(
        lambda e: e.get("Uniqueid") == uniqueid and e.get("Event") in ("QueueCallerJoin", "Hangup"),
        timeout=timeout,
        since=since,
    )


async def test_a_barred_caller_with_crlf_in_the_caller_id_is_not_queued(hotline: Hotline, port: int) -> None:
    await bar(hotline, BARRED)
    since = hotline.events.mark()
    sipp = carrier_call(hotline.sip_address, CRLF_CALLER, hold_ms=45000, port=port)
    try:
        channel = await hotline.events.wait_for(
            lambda e: e.get("Event") == "Newchannel" and e.get("Channel", "").startswith("PJSIP/carrier-"),
            timeout=10,
            since=since,
        )
        outcome = await queued_or_ended(hotline, channel["Uniqueid"], since, timeout=40)
    finally:
        sipp.kill()
        sipp.wait()
    routes = [
        e
        for e in hotline.events.matching(lambda e: e.get("UserEvent") == "HotlineRoute", since)
        if e.get("Uniqueid") == channel["Uniqueid"]
    ]

    assert outcome["Event"] == "Hangup", f"the barred caller was queued in {outcome.get('Queue')}: routes {routes}"


async def test_a_barred_caller_is_not_queued_when_the_agi_server_is_down(hotline: Hotline) -> None:
    caller = hotline.new_caller()
    await bar(hotline, caller)
    since = hotline.events.mark()

    uniqueid, _ = await hotline.call(caller, hold_seconds=40, HOTLINE_AGI_URL=f"agi://127.0.0.1:{unused_tcp_port()}")
    outcome = await queued_or_ended(hotline, uniqueid, since, timeout=40)

    assert outcome["Event"] == "Hangup", f"the barred caller was queued in {outcome.get('Queue')}"
