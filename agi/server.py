"""A threaded FastAGI server: one accept loop, a bounded pool of worker threads.

Each connection must send its AGI environment within `header_timeout` seconds or is dropped, so
clients that connect and close, send garbage or stall cost one worker for at most that long and
never touch other calls. Asterisk itself falls back to the default queue if we fail.
"""

from __future__ import annotations

import contextlib
import functools
import io
import logging
import socket
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

from agi import metrics
from agi.channel import BadAGIEnvironment, read_environment

log = logging.getLogger(__name__)

Handler = Callable[[socket.socket, io.BufferedReader, dict[str, str]], str]  # returns the outcome


class FastAGIServer:
    def __init__(self, host: str, port: int, handler: Handler, workers: int = 256, header_timeout: float = 2.0):
        self._handler = handler
        self._header_timeout = header_timeout
        self._listener = socket.create_server((host, port), backlog=1024, reuse_port=False)
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="agi")
        self._stopping = threading.Event()
        self._open: set[socket.socket] = set()  # accepted connections whose session has not ended
        self._open_changed = threading.Condition()

    @property
    def address(self) -> tuple[str, int]:
        return self._listener.getsockname()[:2]

    def serve_forever(self) -> None:
        log.info("FastAGI listening on %s:%d", *self.address)
        while not self._stopping.is_set():
            try:
                conn, _ = self._listener.accept()
            except OSError:
                if self._stopping.is_set():
                    break
                raise
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self._open_changed:
                if self._stopping.is_set():
                    conn.close()
                    break
                self._open.add(conn)
                queued = self._pool.submit(self._serve, conn)
            queued.add_done_callback(functools.partial(self._close_if_cancelled, conn))

    def shutdown(self, grace_seconds: float = 0.0) -> None:
        """Stops accepting; sessions in progress get `grace_seconds` to finish, then their connections
        are closed (their calls go on at the dialplan's fallback). Blocks for at most that long."""
        with self._open_changed:
            self._stopping.set()
        with contextlib.suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)
        self._listener.close()
        self._pool.shutdown(wait=False, cancel_futures=True)
        with self._open_changed:
            self._open_changed.wait_for(lambda: not self._open, timeout=grace_seconds)
            left = list(self._open)
        if left:
            log.warning("FastAGI stopping: %d sessions cut short", len(left))
        for conn in left:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)

    def _serve(self, conn: socket.socket) -> None:
        try:
            metrics.SESSIONS.labels(self._session(conn)).inc()
        finally:
            self._close(conn)

    def _close_if_cancelled(self, conn: socket.socket, queued: Future[None]) -> None:
        """A connection still queued at shutdown (every worker busy) is cancelled there: closed here."""
        if queued.cancelled():
            self._close(conn)

    def _close(self, conn: socket.socket) -> None:
        # shutdown, not only close: file objects made from the socket keep its descriptor open.
        with contextlib.suppress(OSError):
            conn.shutdown(socket.SHUT_RDWR)
        conn.close()
        with self._open_changed:
            self._open.discard(conn)
            self._open_changed.notify_all()

    def _session(self, conn: socket.socket) -> str:
        try:
            env, reader = read_environment(conn, self._header_timeout)
        except (BadAGIEnvironment, OSError) as exc:
            log.warning("FastAGI client dropped: %s", str(exc) or type(exc).__name__)
            return "bad_client"
        started = time.monotonic()
        try:
            return self._handler(conn, reader, env)
        except Exception:
            log.exception("call %s: FastAGI handler failed; the dialplan falls back", env.get("agi_uniqueid"))
            return "handler_error"
        finally:
            metrics.SESSION_SECONDS.observe(time.monotonic() - started)
