"""Renders asterisk_conf/ templates into an Asterisk instance's config directory."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from importlib.resources import files
from pathlib import Path
from typing import Protocol

TEMPLATE_DIR = Path(str(files("asterisk_conf")))  # the templates, package data of asterisk_conf
_PLACEHOLDER = re.compile(r"\{\{\s*(\w+)\s*\}\}")


class AsteriskSettings(Protocol):
    """What rendering needs of the settings (hotline.settings.Settings has it all): telephony
    sits below the composition root and does not import it."""

    asterisk_instance: str
    bind_host: str
    sip_port: int
    rtp_port_start: int
    rtp_port_end: int
    ami_port: int
    ami_username: str
    ami_secret: str
    sip_secret: str
    default_queue: str
    ivr_budget_seconds: int
    wrapup_seconds: int
    carrier_uri: str

    @property
    def asterisk_conf_dir(self) -> str: ...
    @property
    def agi_url(self) -> str: ...
    @property
    def queue_agents(self) -> Sequence[str]: ...
    @property
    def department_extensions(self) -> Sequence[str]: ...
    @property
    def emergency_targets(self) -> Mapping[str, str]: ...
    @property
    def queues(self) -> Sequence[str]: ...
    def sip_password(self, extension: str) -> str: ...


def render_template(text: str, values: dict[str, str]) -> str:
    """Fills {{ name }} placeholders; an unknown name is an error, never an empty string."""

    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in values:
            raise KeyError(f"asterisk_conf template uses unknown placeholder {{{{ {name} }}}}")
        return values[name]

    return _PLACEHOLDER.sub(fill, text)


def _phones(settings: AsteriskSettings) -> str:
    blocks = []
    for ext, context in [(e, "agents") for e in settings.queue_agents] + [
        (e, "departments") for e in settings.department_extensions
    ]:
        blocks.append(
            f"[{ext}](softphone)\ncontext = {context}\nauth = {ext}-auth\naors = {ext}\n"
            f'callerid = "{ext}" <{ext}>\n\n'
            f"[{ext}](softphone-aor)\n\n"
            f"[{ext}-auth](softphone-auth)\nusername = {ext}\npassword = {settings.sip_password(ext)}\n"
        )
    return "\n".join(blocks)


def _emergency_trunks(settings: AsteriskSettings) -> str:
    return "\n".join(
        f"[emergency-{number}](media)\ncontext = from-emergency\naors = emergency-{number}\n\n"
        f"[emergency-{number}]\ntype = aor\ncontact = {uri}\n"
        for number, uri in settings.emergency_targets.items()
    )


def _transfer_targets(settings: AsteriskSettings) -> str:
    """Where the IVR may transfer a caller: 110/119/120 over their trunks, department phones.
    'm': the caller hears music while it rings; unanswered, back to the front of the queue."""
    dials = [(number, f"PJSIP/emergency-{number}") for number in settings.emergency_targets]
    dials += [(ext, f"PJSIP/{ext}") for ext in settings.department_extensions]
    return "\n".join(
        f"exten => {number},1,Dial({dial},30,m)\n"
        f' same => n,GotoIf($["${{DIALSTATUS}}" = "ANSWER"]?done)\n'
        f" same => n,Goto(hotline-route,requeue,1)\n"
        f" same => n(done),Hangup()\n"
        for number, dial in dials
    )


def _queues(settings: AsteriskSettings) -> str:
    # No static members: agents join and leave over AMI when they log in and out.
    return "\n".join(f"[{queue}](hotline-queue)\n" for queue in settings.queues)


def template_values(settings: AsteriskSettings, module_dir: str) -> dict[str, str]:
    return {
        "instance": settings.asterisk_instance,
        "module_dir": module_dir,
        "bind_host": settings.bind_host,
        "sip_port": str(settings.sip_port),
        "rtp_port_start": str(settings.rtp_port_start),
        "rtp_port_end": str(settings.rtp_port_end),
        "ami_port": str(settings.ami_port),
        "ami_username": settings.ami_username,
        "ami_secret": settings.ami_secret,
        "agi_url": settings.agi_url,
        "default_queue": settings.default_queue,
        "ivr_budget_seconds": str(settings.ivr_budget_seconds),
        "phones": _phones(settings),
        "emergency_trunks": _emergency_trunks(settings),
        "transfer_targets": _transfer_targets(settings),
        "queues": _queues(settings),
        "wrapup_seconds": str(settings.wrapup_seconds),
        "carrier_uri": settings.carrier_uri,
    }


def find_module_dir(root: Path) -> str:
    """The architecture-specific module directory inside the chroot."""
    found = sorted(root.glob("usr/lib/*/asterisk/modules"))
    if not found:
        raise FileNotFoundError(f"no Asterisk modules under {root}: run scripts/asterisk.sh install")
    return "/" + str(found[0].relative_to(root))


def render_config(settings: AsteriskSettings, root: Path) -> Path:
    """Writes every template into <root>/etc/asterisk-<instance>/ and returns that directory."""
    if not settings.ami_secret or not settings.sip_secret:
        raise RuntimeError("AMI and SIP secrets are not set: run `hotline init` first")
    values = template_values(settings, find_module_dir(root))
    target = root / settings.asterisk_conf_dir.lstrip("/")
    target.mkdir(mode=0o700, parents=True, exist_ok=True)
    target.chmod(0o700)
    for template in sorted(TEMPLATE_DIR.glob("*.conf")):
        _write_private(target / template.name, render_template(template.read_text(), values))
    return target


def _write_private(path: Path, text: str) -> None:
    """0600 whatever the umask: manager.conf holds the AMI secret, pjsip.conf every SIP password."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)
    with open(fd, "w", encoding="utf-8") as out:
        out.write(text)
