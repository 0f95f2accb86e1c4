"""Configuration, read from HOTLINE_* environment variables and the local secrets file."""

from __future__ import annotations

import hashlib
import hmac
import os
from importlib.resources import files
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from domain.callback_numbers import DOMESTIC
from routing.emergency import DEFAULT_EMERGENCY_PHRASES

# The directory holding the project's packages: a checkout's root (with pyproject.toml, scripts/,
# .run/) when run from the repository, an environment's site-packages when installed from a wheel.
REPO_ROOT = Path(__file__).resolve().parent.parent
IN_CHECKOUT = (REPO_ROOT / "pyproject.toml").is_file()


def shipped_file(package: str, *parts: str) -> Path:
    """A data file shipped inside one of the project's packages, wherever they are installed."""
    return Path(str(files(package).joinpath(*parts)))


# Runtime state (database, secrets, spools, recordings, the Asterisk chroot): HOTLINE_RUN_DIR, else
# the checkout's .run/, else .run/ in the directory an installed `hotline` is run from.
RUN_DIR = Path(os.environ.get("HOTLINE_RUN_DIR") or (REPO_ROOT if IN_CHECKOUT else Path.cwd()) / ".run")
SECRETS_FILE = RUN_DIR / "secrets.env"

AGENT_EXTENSIONS = tuple(str(n) for n in range(8001, 8021))


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HOTLINE_", env_file=SECRETS_FILE, extra="ignore")

    database_url: str = f"sqlite:///{RUN_DIR / 'hotline.db'}"
    spool_dir: Path = RUN_DIR / "spool"  # accepted data waiting for the database

    # Asterisk: one instance per name inside the shared chroot, so tests can run beside a dev system.
    asterisk_root: Path = RUN_DIR / "asterisk-root"
    asterisk_instance: str = "hotline"
    bind_host: str = "127.0.0.1"
    sip_port: int = 5060
    rtp_port_start: int = 10000
    rtp_port_end: int = 10999
    ami_port: int = 5038
    ami_username: str = "hotline"
    ami_secret: str = Field(default="", description="AMI password; generated into the secrets file")
    sip_secret: str = Field(default="", description="seed for softphone passwords; generated into the secrets file")

    # FastAGI
    agi_port: int = 4573
    agi_workers: int = 256
    agi_header_timeout: float = 2.0
    ivr_budget_seconds: int = 45
    barred_list_max_age_seconds: float = 5.0
    ivr_flow_file: Path = shipped_file("ivr", "flows", "default.yaml")  # shipped flow, the first version
    prompt_audio_dir: Path = RUN_DIR / "prompt-audio"  # prompt recordings admins uploaded
    callback_hold_seconds: int = 3600  # how long a caller's kept place (callback offer) waits for an agent
    # Numbers callbacks may be placed to (regular expressions, each matching a whole number): by default
    # domestic mobile and fixed-line numbers, never emergency, service, premium-rate or international ones.
    callback_numbers: tuple[str, ...] = DOMESTIC

    default_queue: str = "hotline-general"
    queues: tuple[str, ...] = ("hotline-general", "hotline-business", "hotline-leaders")
    queue_agents: tuple[str, ...] = AGENT_EXTENSIONS
    # Agents' skills, each served by one queue; an agent logs in with skills and a penalty each.
    skill_queues: dict[str, str] = {
        "general": "hotline-general",
        "business": "hotline-business",
        "leaders": "hotline-leaders",
    }
    default_skills: dict[str, int] = {"general": 0}
    wrapup_seconds: int = 10  # after-call work before app_queue offers the agent another call
    transfer_ring_seconds: int = 20  # how long a transfer or three-way target may ring
    handoff_overlap_seconds: float = 3.0  # the agent stays in a 110 handoff this long after 110 answers
    wallboard_interval_seconds: float = 2.0

    # Stand-ins for the PSTN trunks towards the emergency centres, and department phones.
    emergency_targets: dict[str, str] = {
        "110": "sip:110@127.0.0.1:5110",
        "119": "sip:119@127.0.0.1:5119",
        "120": "sip:120@127.0.0.1:5120",
    }
    department_extensions: tuple[str, ...] = tuple(str(n) for n in range(9001, 9011))
    carrier_uri: str = "sip:127.0.0.1:5070"  # the PSTN gateway callbacks go out through

    # Speech: caller audio over AudioSocket to Vosk worker processes.
    audiosocket_port: int = 4574
    asr_model_dir: Path = RUN_DIR / "models" / "vosk-model-small-cn-0.22"
    asr_model_sha256: str | None = None  # digest of the model directory (`hotline asr check` prints it)
    asr_endpoint_seconds: float | None = None  # trailing silence that ends an utterance; None: the model's own
    asr_workers: int = 2  # processes, each with the model loaded once
    asr_audio_dir: Path = RUN_DIR / "audio"  # callers' audio, kept as the durable record
    gazetteer_file: Path = shipped_file("routing", "data", "gazetteer.json")  # 福州
    emergency_phrases: tuple[str, ...] = DEFAULT_EMERGENCY_PHRASES
    emergency_priority: int = 50  # queue priority of a waiting caller heard saying an emergency phrase
    voice_message_max_seconds: int = 60

    api_port: int = 8000
    # Limits on the API, per process (429 with Retry-After; 413 for bodies). Failed sign-ins within the
    # window: one username from one address, one address over any usernames, and overall (a username
    # that signed in from an address before is not held up there by the overall limit).
    sign_in_window_seconds: float = 300.0
    sign_in_failures_per_user_at_address: int = 5
    sign_in_failures_per_address: int = 20
    sign_in_failures_overall: int = 60
    progress_window_seconds: float = 600.0
    progress_misses_per_address: int = 10  # public progress lookups that found no ticket
    max_request_bytes: int = 1024 * 1024  # request bodies; recordings (10 MB) and knowledge imports have their own
    metrics_port: int = 9105

    @property
    def asterisk_conf_dir(self) -> str:
        """Config dir inside the chroot."""
        return f"/etc/asterisk-{self.asterisk_instance}"

    @property
    def agi_url(self) -> str:
        return f"agi://{self.bind_host}:{self.agi_port}"

    @property
    def audiosocket_address(self) -> str:
        return f"{self.bind_host}:{self.audiosocket_port}"

    def sip_password(self, extension: str) -> str:
        """Softphone password for an agent or department extension, derived from sip_secret."""
        if not self.sip_secret:
            raise RuntimeError("HOTLINE_SIP_SECRET is not set: run `hotline init` first")
        digest = hmac.new(self.sip_secret.encode(), extension.encode(), hashlib.sha256).hexdigest()
        return digest[:16]


def ensure_secrets_file() -> None:
    """Create the secrets file with random AMI and SIP secrets, once."""
    import secrets

    if SECRETS_FILE.exists():
        return
    RUN_DIR.mkdir(parents=True, exist_ok=True)
    SECRETS_FILE.write_text(f"HOTLINE_AMI_SECRET={secrets.token_hex(16)}\nHOTLINE_SIP_SECRET={secrets.token_hex(16)}\n")
    SECRETS_FILE.chmod(0o600)
