"""Benchmark: calls through a real Asterisk and our FastAGI IVR, beside the same IVR run as a
classic fork-per-call AGI script, in one run.

    .venv/bin/python bench/agi_calls.py [--calls 2000] [--concurrency 50] [--baseline-calls 200]

A private Asterisk instance ("hotline-bench") places Local-channel calls to 12345 in a context that
runs the AGI and hangs up with its decision (bench/flows/decide.yaml: barred-caller check against
SQLite, then queue choice). Per call Asterisk reports how long the AGI took, from connecting to
our server to the decision being handed over: the "AGI turn". Prints calls/s, failures, p50/p99
AGI turn, and Asterisk's and the AGI server's CPU, then the ratios.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

BENCH_ENV = {
    "HOTLINE_ASTERISK_INSTANCE": "hotline-bench",
    "HOTLINE_SIP_PORT": "25060",
    "HOTLINE_AMI_PORT": "25038",
    "HOTLINE_AGI_PORT": "24573",
    "HOTLINE_RTP_PORT_START": "22000",
    "HOTLINE_RTP_PORT_END": "22999",
    "HOTLINE_AMI_SECRET": "bench-ami-secret",
    "HOTLINE_SIP_SECRET": "bench-sip-secret",
    "HOTLINE_IVR_FLOW_FILE": str(REPO / "bench" / "flows" / "decide.yaml"),
}
FORK_PORT = 24574


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def children_cpu_seconds() -> float:
    """CPU of this process's finished children: the fork-per-call AGI scripts."""
    times = os.times()
    return times.children_user + times.children_system


def wait_for_listener(port: int, seconds: float) -> None:
    """Until the FastAGI server accepts connections (it imports the whole system first)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"the FastAGI server did not listen on port {port} within {seconds} s")


def forking_agi_server(port: int, stop: threading.Event) -> None:
    """inetd-style: every FastAGI connection gets a fresh Python running the classic AGI script."""
    listener = socket.create_server(("127.0.0.1", port), backlog=1024)
    listener.settimeout(0.2)
    children: list[subprocess.Popen] = []
    script = str(REPO / "bench" / "classic_agi_script.py")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    while not stop.is_set():
        try:
            conn, _ = listener.accept()
        except TimeoutError:
            children = [c for c in children if c.poll() is None]
            continue
        with conn:
            children.append(
                subprocess.Popen([sys.executable, script], stdin=conn.fileno(), env=env, stderr=subprocess.DEVNULL)
            )
    listener.close()
    for child in children:
        child.wait()


@dataclass
class Run:
    name: str
    calls: int
    failures: Counter[str]
    seconds: float
    turns: list[float]
    asterisk_cpu: float
    agi_cpu: float

    def row(self) -> str:
        turns = sorted(self.turns) or [float("nan")]
        p50 = statistics.median(turns) * 1000
        p99 = turns[min(len(turns) - 1, int(len(turns) * 0.99))] * 1000
        return (
            f"{self.name:<22} {self.calls:>6} {self.failures.total():>6} {self.calls / self.seconds:>9.1f} "
            f"{p50:>9.2f} {p99:>9.2f} {100 * self.asterisk_cpu / self.seconds:>8.0f}% {100 * self.agi_cpu / self.seconds:>8.0f}%"
        )


async def place_calls(ami, events: asyncio.Queue, calls: int, concurrency: int, agi_url: str, prefix: str):
    """Originates `calls` calls, at most `concurrency` in flight; returns (failures, turns, seconds)."""
    pending: dict[str, asyncio.Future] = {}
    turns: list[float] = []
    failures: Counter[str] = Counter()
    slots = asyncio.Semaphore(concurrency)

    async def dispatch() -> None:
        while True:
            event = await events.get()
            caller = event.get("CallerIDNum", "")
            if event.get("Event") == "UserEvent" and event.get("UserEvent") == "HotlineDecided" and caller in pending:
                pending.pop(caller).set_result(event)
            elif event.get("Event") == "OriginateResponse" and event.get("Response") == "Failure":
                future = pending.pop(event.get("CallerIDNum", ""), None)
                if future:
                    future.set_result(event)

    async def one(i: int) -> None:
        caller = f"{prefix}{i:07d}"
        async with slots:
            future = asyncio.get_running_loop().create_future()
            pending[caller] = future
            try:
                await ami.originate_local(
                    "12345",
                    "hotline-decide-only",
                    "caller-sim",
                    caller,
                    {"SIM_HOLD": "120", "HOTLINE_AGI_URL": agi_url},
                )
                event = await asyncio.wait_for(future, 120)
            except Exception as exc:
                failures[type(exc).__name__] += 1
                pending.pop(caller, None)
                return
            if event.get("Status") != "SUCCESS" or event.get("Action") != "queue":
                failures[
                    f"{event.get('Event')} {event.get('Status') or event.get('Reason')} {event.get('Action')}"
                ] += 1
            else:
                turns.append(float(event["AgiSeconds"]))

    router = asyncio.create_task(dispatch())
    started = time.monotonic()
    await asyncio.gather(*(one(i) for i in range(calls)))
    elapsed = time.monotonic() - started
    router.cancel()
    return failures, turns, elapsed


async def measure(args: argparse.Namespace, asterisk_pid: int, agi_pid: int) -> list[Run]:
    from hotline.settings import Settings
    from telephony.ami import AmiClient

    settings = Settings()
    ami = AmiClient("127.0.0.1", settings.ami_port, settings.ami_username, settings.ami_secret)
    events = ami.subscribe()
    await ami.connect()
    for wanted in ("Event: UserEvent", "Event: OriginateResponse"):
        await ami.action({"Action": "Filter", "Operation": "Add", "Filter": wanted})
    runs: list[Run] = []
    for name, calls, url, agi_cpu in (
        ("threaded FastAGI (ours)", args.calls, settings.agi_url, lambda: cpu_seconds(agi_pid)),
        ("fork-per-call AGI", args.baseline_calls, f"agi://127.0.0.1:{FORK_PORT}", children_cpu_seconds),
    ):
        prefix = f"1{len(runs)}"
        await place_calls(ami, events, min(50, calls), args.concurrency, url, prefix + "9")  # warm-up
        a0, p0 = cpu_seconds(asterisk_pid), agi_cpu()
        failures, turns, seconds = await place_calls(ami, events, calls, args.concurrency, url, prefix)
        runs.append(Run(name, calls, failures, seconds, turns, cpu_seconds(asterisk_pid) - a0, agi_cpu() - p0))
    ami.close()
    return runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--baseline-calls", type=int, default=200)
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="hotline-bench-"))
    os.environ.update(BENCH_ENV, HOTLINE_DATABASE_URL=f"sqlite:///{workdir / 'bench.db'}")
    from storage.migrate import upgrade_database

    upgrade_database(os.environ["HOTLINE_DATABASE_URL"])
    asterisk = REPO / "scripts" / "asterisk.sh"
    subprocess.run([str(asterisk), "restart"], check=True, stdout=subprocess.DEVNULL)
    hotline = REPO / ".venv" / "bin" / "hotline"
    agi = subprocess.Popen([str(hotline), "agi"], stderr=subprocess.DEVNULL)
    stop = threading.Event()
    forker = threading.Thread(target=forking_agi_server, args=(FORK_PORT, stop), daemon=True)
    forker.start()
    try:
        wait_for_listener(int(BENCH_ENV["HOTLINE_AGI_PORT"]), seconds=30)
        root = Path(os.environ.get("HOTLINE_ASTERISK_ROOT", REPO / ".run" / "asterisk-root"))
        asterisk_pid = int((root / "run" / "asterisk-hotline-bench" / "asterisk.pid").read_text())
        runs = asyncio.run(measure(args, asterisk_pid, agi.pid))
    finally:
        stop.set()
        agi.send_signal(signal.SIGINT)
        agi.wait(10)
        subprocess.run([str(asterisk), "stop"], check=False, stdout=subprocess.DEVNULL)

    print(
        f"\n{args.concurrency} calls in flight, {os.cpu_count()} cores; AGI turn = AGI() start to decision, seen by Asterisk"
    )
    print(
        f"{'':<22} {'calls':>6} {'failed':>6} {'calls/s':>9} {'p50 ms':>9} {'p99 ms':>9} {'Asterisk':>9} {'AGI side':>9}"
    )
    for run in runs:
        print(run.row())
    ours, fork = runs
    print(
        f"\nratio ours / fork-per-call: {(ours.calls / ours.seconds) / (fork.calls / fork.seconds):.1f}x calls/s, "
        f"p50 turn {statistics.median(fork.turns or [0]) / max(statistics.median(ours.turns or [1]), 1e-9):.1f}x faster"
    )
    for run in runs:
        if run.failures:
            print(f"failures of {run.name}: {dict(run.failures)}")


if __name__ == "__main__":
    main()
