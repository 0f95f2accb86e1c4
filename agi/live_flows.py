"""The flow a new call starts with: the live version, re-read from the database so a publish takes
effect for the next call without a restart."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from agi import metrics
from agi.session import RunningFlow
from ivr.flow import Flow
from storage.ivr_versions import LiveFlow

log = logging.getLogger(__name__)


class LiveFlows:
    """The flow a new call starts with: the live version, checked at most every `recheck_seconds`
    by whichever call finds it stale. A version that cannot be read, parsed or installed leaves
    the running one in force (and is logged): calls never wait on a broken publish."""

    def __init__(
        self,
        read_live: Callable[[], LiveFlow | None],
        parse: Callable[[str], Flow],
        install: Callable[[Flow], dict[str, str]],
        shipped: RunningFlow,
        recheck_seconds: float = 1.0,
    ):
        self._read_live = read_live
        self._parse = parse
        self._install = install
        self._running = shipped
        self._recheck = recheck_seconds
        self._checked_at = -float("inf")
        self._lock = threading.Lock()

    def _refresh(self) -> None:
        self._checked_at = time.monotonic()
        try:
            live = self._read_live()
            if live is None or live.number == self._running.version:
                return
            flow = self._parse(live.source)
            self._running = RunningFlow(live.number, flow, self._install(flow))
            metrics.IVR_VERSION.set(live.number)
            log.info("IVR flow version %d is live for new calls", live.number)
        except Exception:
            metrics.IVR_LOAD_FAILURES.inc()
            log.exception("could not load the live IVR flow; calls go on with version %d", self._running.version)

    def __call__(self) -> RunningFlow:
        if time.monotonic() - self._checked_at > self._recheck and self._lock.acquire(blocking=False):
            try:
                self._refresh()
            finally:
                self._lock.release()
        return self._running
