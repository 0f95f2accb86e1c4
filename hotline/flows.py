"""The IVR flow calls run: what a flow may refer to in this deployment, and the live version,
re-read from the database so a publish takes effect for the next call without a restart."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from sqlalchemy.orm import Session

from agi import metrics
from agi.session import RunningFlow
from hotline.ivr_admin import IvrAdmin
from hotline.settings import RUN_DIR, Settings
from ivr.flow import Flow
from ivr.validation import FlowCatalogue, parse_flow_text
from storage.ivr_versions import LiveFlow
from telephony.prompt_audio import PromptAudioStore
from telephony.prompts import PromptInstaller

log = logging.getLogger(__name__)


def flow_catalogue(settings: Settings, audio: PromptAudioStore | None = None) -> FlowCatalogue:
    targets = tuple(settings.emergency_targets) + tuple(settings.department_extensions)
    return FlowCatalogue(queues=settings.queues, targets=targets, audio=tuple(audio.names()) if audio else ())


def prompt_audio_store(settings: Settings) -> PromptAudioStore:
    return PromptAudioStore(settings.prompt_audio_dir)


def prompt_installer(settings: Settings, audio: PromptAudioStore) -> PromptInstaller:
    return PromptInstaller(settings.asterisk_root, RUN_DIR / "prompt-cache", audio.path)


def flow_checker(settings: Settings, audio: PromptAudioStore) -> Callable[[str], Flow]:
    """Parses a flow's source against this deployment (recordings as uploaded at the time)."""
    return lambda source: parse_flow_text(source, flow_catalogue(settings, audio))


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


def build_ivr_admin(settings: Settings, sessions: Callable[[], Session]) -> IvrAdmin:
    """Flow versions checked against this deployment's queues, targets and recordings, their
    prompts installed into its Asterisk when they go live."""
    audio = prompt_audio_store(settings)
    installer = prompt_installer(settings, audio)
    check = flow_checker(settings, audio)

    def install(source: str) -> None:
        installer.install(check(source).prompts)

    return IvrAdmin(sessions, check=check, install=install)
