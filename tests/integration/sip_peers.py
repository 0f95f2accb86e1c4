"""Real SIP user agents for the tests: SIPp processes playing softphones, trunks and carriers."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

SCENARIOS = Path(__file__).resolve().parent.parent / "sipp"
HOST = "127.0.0.1"


def sipp_binary() -> str:
    path = shutil.which("sipp")
    if path is None:
        raise RuntimeError("SIPp is not installed (Debian package sip-tester): run scripts/bootstrap.sh")
    return path


def start_uas(port: int, calls: int, busy: bool = False) -> subprocess.Popen[str]:
    """A SIPp UAS that answers `calls` INVITEs on `port` and waits for the BYE, or (busy) refuses
    them with 486 Busy Here."""
    scenario = ["-sf", str(SCENARIOS / "busy_uas.xml")] if busy else ["-sn", "uas"]
    return subprocess.Popen(
        [
            sipp_binary(),
            *scenario,
            "-i",
            HOST,
            "-p",
            str(port),
            "-mp",
            str(port + 1000),
            "-m",
            str(calls),
            "-nostdin",
            "-timeout",
            "120",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def stop(process: subprocess.Popen[str] | None) -> None:
    if process is not None and process.poll() is None:
        process.kill()
        process.wait()


def _run(args: list[str], timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sipp_binary(), *args], capture_output=True, text=True, timeout=timeout)


@dataclass
class Softphone:
    """An agent or department phone: registered with Asterisk, answered by a SIPp UAS."""

    extension: str
    password: str
    port: int
    asterisk_sip: str
    calls: int = 1
    busy: bool = False
    _uas: subprocess.Popen[str] | None = field(default=None, init=False)

    def _register(self, expires: int) -> None:
        done = _run(
            [
                "-sf",
                str(SCENARIOS / "register.xml"),
                "-i",
                HOST,
                "-p",
                "0",
                "-m",
                "1",
                "-key",
                "user",
                self.extension,
                "-key",
                "contact_port",
                str(self.port),
                "-key",
                "expires",
                str(expires),
                "-au",
                self.extension,
                "-ap",
                self.password,
                "-timeout",
                "10",
                "-timeout_error",
                self.asterisk_sip,
            ],
            timeout=20,
        )
        if done.returncode != 0:
            raise RuntimeError(f"SIPp could not register {self.extension}: {done.stdout[-500:]} {done.stderr[-500:]}")

    def __enter__(self) -> Softphone:
        self._uas = start_uas(self.port, self.calls, self.busy)
        self._register(expires=300)
        return self

    def answered_calls(self, timeout: float) -> int:
        """Waits for the UAS to finish its calls; returns its exit code (0: all answered cleanly)."""
        assert self._uas is not None
        return self._uas.wait(timeout)

    def __exit__(self, *_: object) -> None:
        self._register(expires=0)
        stop(self._uas)


@dataclass
class Trunk:
    """A stand-in for the line to 110/119/120: a SIPp UAS on the trunk's port."""

    port: int
    calls: int = 1
    busy: bool = False
    _uas: subprocess.Popen[str] | None = field(default=None, init=False)

    def __enter__(self) -> Trunk:
        self._uas = start_uas(self.port, self.calls, self.busy)
        return self

    def __exit__(self, *_: object) -> None:
        stop(self._uas)


def carrier_call(asterisk_sip: str, caller: str, hold_ms: int, port: int) -> subprocess.Popen[str]:
    """Starts one call to 12345 as the PSTN gateway would place it; returns the running SIPp."""
    return subprocess.Popen(
        [
            sipp_binary(),
            "-sf",
            str(SCENARIOS / "carrier_uac.xml"),
            "-i",
            HOST,
            "-p",
            str(port),
            "-mp",
            str(port + 1000),
            "-m",
            "1",
            "-d",
            str(hold_ms),
            "-key",
            "caller",
            caller,
            "-nostdin",
            "-timeout",
            "120",
            "-timeout_error",
            asterisk_sip,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
