"""pyst2's AGI command layer over one FastAGI socket, without the library's faults.

pyst2's constructor installs a SIGHUP handler (a ValueError outside the main thread), prints debug
text to stderr and reads the AGI environment with no limits; its `_quote` escapes nothing; and its
result parser loops forever on a closed socket after a 520 reply. Here the environment is read by
`read_environment` (bounded, timed), the constructor does neither of the first two, quoting escapes
quotes, backslashes and newlines, and end-of-file raises AGIHangup.
"""

from __future__ import annotations

import io
import socket
import time

from asterisk.agi import AGI, AGIHangup, AGIResultHangup, AGIUnknownError

MAX_ENV_LINES = 128
MAX_LINE_BYTES = 2048
REQUIRED_ENV = ("agi_uniqueid", "agi_channel")


class BadAGIEnvironment(ValueError):
    """The client did not send a well-formed AGI environment."""


class _HangupOnEOF(io.TextIOBase):
    """Wraps the socket's reader: an empty read (peer gone) or Asterisk's bare HANGUP line raises."""

    def __init__(self, reader: io.TextIOBase):
        self._reader = reader

    def readline(self, size: int = -1) -> str:  # type: ignore[override]
        line = self._reader.readline(MAX_LINE_BYTES)
        if not line:
            raise AGIHangup("FastAGI connection closed by Asterisk")
        if line.strip() == "HANGUP":
            raise AGIHangup("Asterisk reported a hangup")
        return line


class SocketAGI(AGI):
    """One call's AGI channel. Every command shares the call's deadline (a monotonic time)."""

    def __init__(self, sock: socket.socket, reader: io.BufferedReader, env: dict[str, str], deadline: float):
        self._sock = sock
        self._deadline = deadline
        self.stdin = _HangupOnEOF(io.TextIOWrapper(reader, encoding="utf-8", errors="replace", newline="\n"))
        self.stdout = sock.makefile("w", encoding="utf-8", newline="\n")
        self.stderr = io.StringIO()  # pyst2 writes its debug text here; it is never read
        self._got_sighup = False
        self.env = env

    def extend_deadline(self, seconds: float) -> None:
        self._deadline += seconds

    def _quote(self, string: object) -> str:
        text = str(string).replace("\\", "\\\\").replace('"', '\\"').replace("\r", " ").replace("\n", " ")
        return f'"{text}"'

    def execute(self, command: str, *args: object) -> dict:
        remaining = self._deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("call deadline passed")
        self._sock.settimeout(remaining)
        self.stderr.seek(0)
        self.stderr.truncate()
        try:
            return super().execute(command, *args)
        except AGIUnknownError as exc:
            if exc.args and exc.args[0] == 511:  # command on a dead channel
                raise AGIResultHangup("channel is gone") from None
            raise


def read_environment(sock: socket.socket, timeout: float) -> tuple[dict[str, str], io.BufferedReader]:
    """Reads the `agi_*: value` header block up to its blank line, within `timeout` seconds."""
    sock.settimeout(timeout)
    env: dict[str, str] = {}
    reader = sock.makefile("rb")
    for _ in range(MAX_ENV_LINES):
        raw = reader.readline(MAX_LINE_BYTES)
        if not raw:
            raise BadAGIEnvironment("connection closed before the AGI environment ended")
        if not raw.endswith(b"\n"):
            raise BadAGIEnvironment("AGI environment line too long")
        line = raw.decode("utf-8", errors="replace").strip()
        if not line:
            break
        key, sep, value = line.partition(":")
        if not sep or not key.startswith("agi_"):
            raise BadAGIEnvironment(f"not an AGI environment line: {line[:80]!r}")
        env[key.strip()] = value.strip()
    else:
        raise BadAGIEnvironment(f"AGI environment longer than {MAX_ENV_LINES} lines")
    missing = [key for key in REQUIRED_ENV if not env.get(key)]
    if missing:
        raise BadAGIEnvironment(f"AGI environment lacks {', '.join(missing)}")
    return env, reader
