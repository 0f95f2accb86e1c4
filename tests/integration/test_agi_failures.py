"""Whatever our FastAGI side does, the caller reaches the default queue and an agent."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack, asynccontextmanager, contextmanager

import pytest
from prometheus_client import REGISTRY

from tests.integration.conftest import Hotline
from tests.integration.events import is_event

pytestmark = pytest.mark.integration


def unused_tcp_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def misbehaving_agi(behaviour: str) -> Iterator[int]:
    """A FastAGI server that reads the environment and then stalls, or answers nonsense."""
    listener = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []

    def serve() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            held.append(conn)
            conn.recv(65536)
            if behaviour == "nonsense":
                conn.sendall(
                    b'SET VARIABLE HOTLINE_QUEUE "no-such-queue"\n'
                    b'SET VARIABLE HOTLINE_ACTION "queue"\n'
                    b"THIS IS NOT AGI\n"
                    b'SET VARIABLE HOTLINE_PRIORITY "x;Hangup()"\n'
                )
                time.sleep(0.5)
                conn.close()

    threading.Thread(target=serve, daemon=True).start()
    try:
        yield listener.getsockname()[1]
    finally:
        listener.close()
        for conn in held:
            conn.close()


# Callers of the tests that kill the server stay on the line until the test hangs them up, once an
# agent has answered. They used to hang up by themselves 10-12 s after the call began, so the
# whole IVR-kill-fallback-queue-ring path had to fit in that time: on a loaded machine Asterisk
# once took 9 s to ring the free agents after the fallback, the callers left the queue unanswered
# and the test failed on its own callers' timer, not on anything the system did.
STAYS_ON_THE_LINE = 300


async def assert_reaches_agent(hotline: Hotline, uniqueid: str, extension: str, timeout: float) -> None:
    connect = await hotline.events.wait_for(is_event("AgentConnect", Uniqueid=uniqueid), timeout=timeout)
    assert connect["Interface"] == f"PJSIP/{extension}"


def fallbacks() -> float:
    return REGISTRY.get_sample_value("hotline_calls_total", {"route": "queue", "fallback": "yes"}) or 0.0


async def test_agi_server_down_call_goes_to_default_queue(hotline: Hotline, port: int) -> None:
    before = fallbacks()
    async with hotline.agent("8003", port):
        uniqueid, _ = await hotline.call(
            hotline.new_caller(), hold_seconds=6, HOTLINE_AGI_URL=f"agi://127.0.0.1:{unused_tcp_port()}"
        )
        route = await hotline.events.wait_for(is_event("UserEvent", UserEvent="HotlineRoute", Uniqueid=uniqueid), 10)
        await assert_reaches_agent(hotline, uniqueid, "8003", timeout=10)
        records = await hotline.record(uniqueid)
    assert (route["Queue"], route["Fallback"]) == ("hotline-general", "yes")
    assert all(r.agi_fallback and r.agent == "agent8003" for r in records.values())
    assert fallbacks() == before + 1  # counted for Prometheus


@pytest.mark.parametrize("behaviour", ["stall", "nonsense"])
async def test_stalled_or_nonsensical_agi_still_queues_the_call(hotline: Hotline, port: int, behaviour: str) -> None:
    async with hotline.agent("8004", port):
        with misbehaving_agi(behaviour) as agi_port:
            uniqueid, _ = await hotline.call(
                hotline.new_caller(),
                hold_seconds=10,
                HOTLINE_AGI_URL=f"agi://127.0.0.1:{agi_port}",
                HOTLINE_IVR_BUDGET="3",
            )
            route = await hotline.events.wait_for(
                is_event("UserEvent", UserEvent="HotlineRoute", Uniqueid=uniqueid), 10
            )
            await assert_reaches_agent(hotline, uniqueid, "8004", timeout=10)
            await hotline.record(uniqueid)
    # A stalled AGI is cut off by the IVR budget: no decision, so the fallback. The nonsense server
    # did decide "queue", but for a queue that does not exist: the default queue, at priority 0.
    assert route["Queue"] == "hotline-general"
    assert route["Fallback"] == ("yes" if behaviour == "stall" else "no")
    assert route["QueuePriority"] == "0"


LISTENING = re.compile(r"FastAGI listening on [0-9.]+:([0-9]+)")
STARTUP_GUARD_SECONDS = 120  # only so that a server that never starts fails the test, not hangs it


@asynccontextmanager
async def agi_process() -> AsyncIterator[tuple[subprocess.Popen[str], str]]:
    """`hotline agi` in a process of its own (to be killed), and its URL once it listens.

    Ready means the server's own "FastAGI listening on host:port" log line (it binds a port of its
    choosing, HOTLINE_AGI_PORT=0, and that line says which). This used to probe a port for ten
    seconds and then go on regardless: on a loaded 2-core machine the process, which imports the
    whole system, was not listening yet, and the test's calls found a closed port and went
    straight to the fallback queue, never into the IVR. Its stderr is read all along (a full pipe
    would stall the server) and shown if it fails to start."""
    env = {**os.environ, "HOTLINE_AGI_PORT": "0"}
    server = subprocess.Popen([sys.executable, "-m", "hotline.cli", "agi"], env=env, stderr=subprocess.PIPE, text=True)
    loop = asyncio.get_running_loop()
    port: asyncio.Future[int] = loop.create_future()
    lines: list[str] = []

    def settle(value: int | None) -> None:
        if not port.done():
            if value is None:
                port.set_exception(AssertionError(f"`hotline agi` exited before it listened:\n{''.join(lines[-30:])}"))
            else:
                port.set_result(value)

    def drain() -> None:
        assert server.stderr is not None
        for line in server.stderr:
            lines.append(line)
            if (found := LISTENING.search(line)) is not None:
                loop.call_soon_threadsafe(settle, int(found.group(1)))
        loop.call_soon_threadsafe(settle, None)

    threading.Thread(target=drain, daemon=True).start()
    try:
        try:
            agi_port = await asyncio.wait_for(asyncio.shield(port), STARTUP_GUARD_SECONDS)
        except TimeoutError:
            raise AssertionError(f"`hotline agi` did not start listening:\n{''.join(lines[-30:])}") from None
        yield server, f"agi://127.0.0.1:{agi_port}"
    finally:
        if server.poll() is None:
            server.kill()
        await asyncio.to_thread(server.wait, 10)


async def test_agi_server_killed_mid_call_and_stopped(hotline: Hotline, port: int) -> None:
    async with agi_process() as (server, url), hotline.agent("8005", port, calls=2):
        in_progress, caller = await hotline.call(
            hotline.new_caller(), hold_seconds=STAYS_ON_THE_LINE, HOTLINE_AGI_URL=url
        )
        await hotline.events.wait_for(
            lambda e: e.get("Event") == "AGIExecStart" and e.get("Uniqueid") == in_progress, timeout=10
        )
        server.send_signal(signal.SIGKILL)
        server.wait(10)
        await assert_reaches_agent(hotline, in_progress, "8005", timeout=15)
        await hotline.ami.hangup(caller)
        await hotline.record(in_progress)
        # The server stays down: the next call goes straight to the queue.
        after, caller = await hotline.call(hotline.new_caller(), hold_seconds=STAYS_ON_THE_LINE, HOTLINE_AGI_URL=url)
        await assert_reaches_agent(hotline, after, "8005", timeout=10)
        await hotline.ami.hangup(caller)
        records = await hotline.record(after)
    assert all(r.agi_fallback for r in records.values())


async def test_agi_server_killed_during_a_burst_every_caller_is_answered(hotline: Hotline, port: int) -> None:
    before = fallbacks()
    agents = ("8006", "8007", "8008", "8009", "8010", "8011")  # one agent for each caller
    async with agi_process() as (server, url), AsyncExitStack() as stack:
        for i, extension in enumerate(agents):
            await stack.enter_async_context(hotline.agent(extension, port + 5 * i))
        burst = [
            await hotline.call(hotline.new_caller(), hold_seconds=STAYS_ON_THE_LINE, HOTLINE_AGI_URL=url)
            for _ in agents
        ]
        for uniqueid, _ in burst:  # every call is in our IVR when the server dies
            await hotline.events.wait_for(is_event("AGIExecStart", Uniqueid=uniqueid), timeout=15)
        server.send_signal(signal.SIGKILL)
        connects = [await hotline.events.wait_for(is_event("AgentConnect", Uniqueid=u), 40) for u, _ in burst]
        for _, caller in burst:
            await hotline.ami.hangup(caller)
        records = [await hotline.record(u) for u, _ in burst]
    assert {c["Interface"] for c in connects} <= {f"PJSIP/{a}" for a in agents}
    assert all(r.agi_fallback and r.agent for rs in records for r in rs.values())
    assert fallbacks() - before == len(agents)  # each fallback counted for Prometheus, once per call


async def test_bad_clients_do_not_disturb_concurrent_calls(hotline: Hotline) -> None:
    agi = ("127.0.0.1", hotline.settings.agi_port)
    closers = [socket.create_connection(agi) for _ in range(20)]
    for s in closers:
        s.close()
    garbage = [socket.create_connection(agi) for _ in range(20)]
    for s in garbage:
        s.sendall(os.urandom(3000) + b"\n\n")
    stallers = [socket.create_connection(agi) for _ in range(50)]
    for s in stallers:
        s.sendall(b"agi_network: yes\n")  # and never another byte
    try:
        started = time.monotonic()
        calls = [await hotline.call(hotline.new_caller(), hold_seconds=20) for _ in range(3)]
        routes = [
            await hotline.events.wait_for(is_event("UserEvent", UserEvent="HotlineRoute", Uniqueid=uid), 20)
            for uid, _ in calls
        ]
        elapsed = time.monotonic() - started
    finally:
        for s in garbage + stallers:
            s.close()
    # Each call ran the whole IVR on our server (no fallback) in about the prompts' length (~11 s,
    # and up to ~4 s more for the queue position, said and rendered for each call's place).
    assert [r["Fallback"] for r in routes] == ["no"] * 3
    assert [r["Path"] for r in routes] == ["greeting>emergency_notice>barred_check>wait_check>general"] * 3
    assert elapsed < 20, elapsed
