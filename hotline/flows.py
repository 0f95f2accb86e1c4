"""The IVR flows of this deployment: what a flow may refer to (its queues, transfer targets and
recordings), how its prompts are installed into Asterisk, and the versions service over them."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session

from hotline.settings import RUN_DIR, Settings
from ivr.flow import Flow
from ivr.validation import FlowCatalogue, parse_flow_text
from services.ivr_versions import IvrAdmin
from telephony.prompt_audio import PromptAudioStore
from telephony.prompts import PromptInstaller


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


def build_ivr_admin(settings: Settings, sessions: Callable[[], Session]) -> IvrAdmin:
    """Flow versions checked against this deployment's queues, targets and recordings, their
    prompts installed into its Asterisk when they go live."""
    audio = prompt_audio_store(settings)
    installer = prompt_installer(settings, audio)
    check = flow_checker(settings, audio)

    def install(source: str) -> None:
        installer.install(check(source).prompts)

    return IvrAdmin(sessions, check=check, install=install)
