"""Nothing we run listens beyond this machine: every socket Asterisk and the hotline process (FastAGI,
AudioSocket, agent API) listen on is bound to 127.0.0.1, read from the kernel with `ss`."""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass

import pytest

from tests.integration.conftest import AgentApi, Hotline, SpeechRig

pytestmark = pytest.mark.integration


@dataclass(frozen=True)
class Listener:
    protocol: str
    host: str
    port: int
    process: str
    pid: int


def listeners() -> list[Listener]:
    out = subprocess.run(["ss", "-H", "-lntup"], capture_output=True, text=True, check=True).stdout
    found = []
    for line in out.splitlines():
        fields = line.split()
        if len(fields) < 7 or "pid=" not in fields[6]:
            continue
        host, _, port = fields[4].rpartition(":")
        process = fields[6].split('"')[1]
        pid = int(fields[6].split("pid=")[1].split(",")[0])
        found.append(Listener(fields[0], host.strip("[]"), int(port), process, pid))
    return found


async def test_asterisk_and_the_hotline_listen_on_loopback_only(
    hotline: Hotline, agent_api: AgentApi, speech: SpeechRig
) -> None:
    settings = hotline.settings
    ours = [entry for entry in listeners() if entry.pid == os.getpid() or entry.process == "asterisk"]
    tcp = {(entry.host, entry.port) for entry in ours if entry.protocol == "tcp"}
    udp = {(entry.host, entry.port) for entry in ours if entry.protocol == "udp"}
    fixed_udp = {settings.sip_port} | set(range(settings.rtp_port_start, settings.rtp_port_end + 1))

    expected = {settings.ami_port, settings.agi_port, settings.api_port, speech.settings.audiosocket_port}
    assert expected <= {port for host, port in tcp if host == "127.0.0.1"}, tcp
    assert ("127.0.0.1", settings.sip_port) in udp, udp
    assert [(h, p) for h, p in tcp if h not in ("127.0.0.1", "::1")] == []
    # Asterisk's own client sockets (its DNS resolver) take ephemeral ports; the SIP and RTP ports never are wildcards.
    assert [(h, p) for h, p in udp if p in fixed_udp and h not in ("127.0.0.1", "::1")] == []
