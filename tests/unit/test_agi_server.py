"""The FastAGI server over real loopback sockets: bad clients and finished calls are counted."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest
from prometheus_client import REGISTRY

from agi.server import FastAGIServer

ENV = b"agi_network: yes\nagi_uniqueid: 1700000000.7\nagi_channel: PJSIP/carrier-00000007\n\n"


def sessions(outcome: str) -> float:
    return REGISTRY.get_sample_value("hotline_agi_sessions_total", {"outcome": outcome}) or 0.0


@pytest.fixture
def server() -> Iterator[tuple[str, int]]:
    def handler(sock: socket.socket, reader, env: dict[str, str]) -> str:
        sock.sendall(f"handled {env['agi_uniqueid']}\n".encode())
        return "decided"

    agi = FastAGIServer("127.0.0.1", 0, handler, workers=8, header_timeout=0.3)
    threading.Thread(target=agi.serve_forever, daemon=True).start()
    yield agi.address
    agi.shutdown()


def wait_until(check, timeout: float = 2.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.01)


def test_a_call_is_handled_and_counted(server: tuple[str, int]) -> None:
    before = sessions("decided")
    with socket.create_connection(server) as client:
        client.sendall(ENV)
        assert client.makefile("rb").readline() == b"handled 1700000000.7\n"
    wait_until(lambda: sessions("decided") == before + 1)


def test_garbage_closed_and_stalled_clients_are_dropped_and_counted(server: tuple[str, int]) -> None:
    before = sessions("bad_client")
    with socket.create_connection(server) as garbage:
        garbage.sendall(b"GET / HTTP/1.1\r\n\r\n")
    socket.create_connection(server).close()
    with socket.create_connection(server) as stalled:
        stalled.sendall(b"agi_network: yes\n")
        wait_until(lambda: sessions("bad_client") == before + 3)  # the stalled one after header_timeout
        assert stalled.recv(10) == b""  # the server closed it


def listening(address: tuple[str, int]) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(address) == 0


def test_shutdown_lets_a_session_in_progress_finish_and_refuses_new_calls() -> None:
    """Issue 20 item 13: a call whose IVR is running when the service stops is finished, not cut."""
    started, answer = threading.Event(), threading.Event()

    def handler(sock: socket.socket, reader, env: dict[str, str]) -> str:
        started.set()
        answer.wait(5)
        sock.sendall(b"200 result=0\n")
        return "decided"

    agi = FastAGIServer("127.0.0.1", 0, handler, workers=2, header_timeout=0.3)
    address = agi.address
    threading.Thread(target=agi.serve_forever, daemon=True).start()
    with socket.create_connection(address) as call:
        call.sendall(ENV)
        assert started.wait(2)
        stopping = threading.Thread(target=agi.shutdown, args=(5.0,))
        stopping.start()
        wait_until(lambda: not listening(address))
        answer.set()
        assert call.makefile("rb").readline() == b"200 result=0\n"
        stopping.join(5)
        assert not stopping.is_alive()


def test_shutdown_closes_a_session_that_outlasts_the_grace_period() -> None:
    started = threading.Event()

    def handler(sock: socket.socket, reader, env: dict[str, str]) -> str:
        started.set()
        reader.readline()  # waits for Asterisk, which never sends
        return "decided"

    agi = FastAGIServer("127.0.0.1", 0, handler, workers=2, header_timeout=0.3)
    threading.Thread(target=agi.serve_forever, daemon=True).start()
    with socket.create_connection(agi.address) as call:
        call.sendall(ENV)
        assert started.wait(2)
        since = time.monotonic()
        agi.shutdown(0.3)
        assert time.monotonic() - since < 2
        call.settimeout(2)
        assert call.recv(10) == b""  # closed: Asterisk goes on at the dialplan's fallback
