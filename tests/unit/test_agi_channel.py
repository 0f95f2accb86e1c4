from __future__ import annotations

import socket
import threading
import time

import pytest
from asterisk.agi import AGIHangup, AGIResultHangup

from agi.channel import BadAGIEnvironment, SocketAGI, read_environment

ENV = (
    b"agi_network: yes\nagi_uniqueid: 1700000000.1\nagi_channel: PJSIP/carrier-00000001\nagi_callerid: 13800138000\n\n"
)


def pair() -> tuple[socket.socket, socket.socket]:
    ours, theirs = socket.socketpair()
    return ours, theirs


def test_environment_is_read_up_to_the_blank_line() -> None:
    ours, theirs = pair()
    theirs.sendall(ENV)
    env, _ = read_environment(ours, timeout=1)
    assert env["agi_uniqueid"] == "1700000000.1"
    assert env["agi_callerid"] == "13800138000"


@pytest.mark.parametrize(
    "sent, problem",
    [
        (b"", "closed before"),
        (b"GET / HTTP/1.1\nHost: x\n\n", "not an AGI environment line"),
        (b"agi_network: yes\n\n", "lacks agi_uniqueid, agi_channel"),
        (b"agi_x: " + b"a" * 5000 + b"\n\n", "too long"),
        (b"agi_x: y\n" * 200, "longer than 128 lines"),
    ],
)
def test_bad_environments_are_refused_with_a_reason(sent: bytes, problem: str) -> None:
    ours, theirs = pair()
    theirs.sendall(sent)
    theirs.shutdown(socket.SHUT_WR)
    with pytest.raises(BadAGIEnvironment, match=problem):
        read_environment(ours, timeout=1)


def test_a_stalled_client_times_out() -> None:
    ours, theirs = pair()
    theirs.sendall(b"agi_network: yes\n")
    with pytest.raises(TimeoutError):
        read_environment(ours, timeout=0.2)


def fake_asterisk(theirs: socket.socket, replies: list[bytes], received: list[bytes]) -> threading.Thread:
    def run() -> None:
        reader = theirs.makefile("rb")
        for reply in replies:
            received.append(reader.readline())
            theirs.sendall(reply)
        theirs.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def channel(replies: list[bytes], received: list[bytes], deadline: float = 5) -> SocketAGI:
    ours, theirs = pair()
    theirs.sendall(ENV)
    env, reader = read_environment(ours, timeout=1)
    fake_asterisk(theirs, replies, received)
    return SocketAGI(ours, reader, env, deadline=time.monotonic() + deadline)


def test_values_are_quoted_with_quotes_and_newlines_escaped() -> None:
    received: list[bytes] = []
    agi = channel([b"200 result=1\n"], received)
    agi.set_variable("HOTLINE_IVR_PATH", 'a "b"\nSET VARIABLE X 1')
    assert received == [b'SET VARIABLE "HOTLINE_IVR_PATH" "a \\"b\\" SET VARIABLE X 1"\n']


def test_stream_file_returns_the_escape_digit() -> None:
    agi = channel([b"200 result=48 endpos=1234\n"], [])
    assert agi.stream_file("hotline/greeting", "0") == "0"


def test_dead_channel_and_closed_socket_raise_hangups() -> None:
    agi = channel([b"511 Command Not Permitted on a dead channel or intercept routine\n"], [])
    with pytest.raises(AGIResultHangup):
        agi.set_variable("A", "1")
    with pytest.raises(AGIHangup):
        agi.set_variable("A", "2")  # the fake Asterisk has closed the socket


def test_usage_error_then_eof_does_not_loop_forever() -> None:
    agi = channel([b"520-Invalid command syntax.  Proper usage follows:\nUsage: x\n"], [])
    with pytest.raises(AGIHangup):
        agi.execute("STREAM FILE")


def test_commands_past_the_call_deadline_fail() -> None:
    agi = channel([], [], deadline=-1)
    with pytest.raises(TimeoutError):
        agi.set_variable("A", "1")
