"""Benchmark: how long an agent's read waits while anonymous clients flood the sign-in route, beside
the same reads with no flood, on the embedded SQLite file database over real HTTP (uvicorn).

    .venv/bin/python bench/login_flood.py [--clients 48] [--seconds 10]

The flooding clients run in processes of their own (threads in the server's process would contend
for its interpreter lock and measure that instead). Prints the agent's p50/p99 read time without and
with the flood, their ratio, and what the flood's sign-ins got (401 wrong password, 429 throttled,
503 would mean the database locked up).
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import secrets
import socket
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Event
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx  # noqa: E402
import uvicorn  # noqa: E402

from agent_api.app import create_app  # noqa: E402
from agent_api.context import ApiContext  # noqa: E402
from agent_api.passwords import hash_password  # noqa: E402
from storage.database import make_engine, make_session_factory  # noqa: E402
from storage.migrate import upgrade_database  # noqa: E402
from storage.users import create_user  # noqa: E402

PASSWORD = "bench-password"
LOGIN = "/api/v1/auth/login"
PROCESSES = 4


def flood_process(base: str, clients: int, stop: Event, results: Queue[dict[int, int]]) -> None:
    """`clients` threads flooding sign-ins until `stop`; puts their statuses' counts on `results`."""
    statuses: Counter[int] = Counter()
    lock = threading.Lock()
    threads = [threading.Thread(target=flood, args=(base, stop, statuses, lock)) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    results.put(dict(statuses))


def flood(base: str, stop: Event, statuses: Counter[int], lock: threading.Lock) -> None:
    with httpx.Client(base_url=base, timeout=120) as client:
        while not stop.is_set():
            try:
                status = client.post(
                    LOGIN, json={"username": f"u-{secrets.token_hex(6)}", "password": "guess"}
                ).status_code
            except httpx.HTTPError:
                status = 0
            with lock:
                statuses[status] += 1


async def agent_reads(client: httpx.AsyncClient, headers: dict[str, str], seconds: float) -> list[float]:
    waits, deadline = [], time.monotonic() + seconds
    while time.monotonic() < deadline:
        start = time.perf_counter()
        reply = await client.get("/api/v1/tickets?limit=1", headers=headers)
        waits.append(time.perf_counter() - start)
        reply.raise_for_status()
        await asyncio.sleep(0.1)
    return waits


def figures(waits: list[float]) -> tuple[float, float]:
    ordered = sorted(waits)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


async def main(clients: int, seconds: float) -> None:
    with tempfile.TemporaryDirectory() as work:
        url = f"sqlite:///{work}/hotline.db"
        upgrade_database(url)
        engine = make_engine(url)
        sessions = make_session_factory(engine)
        with sessions.begin() as session:
            create_user(session, "li", hash_password(PASSWORD), "agent", "li")
        app = create_app(ApiContext(sessions=sessions, health=dict))
        listener = socket.create_server(("127.0.0.1", 0))
        base = f"http://127.0.0.1:{listener.getsockname()[1]}"
        server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
        serving = asyncio.create_task(server.serve(sockets=[listener]))
        while not server.started:
            await asyncio.sleep(0.02)
        async with httpx.AsyncClient(base_url=base, timeout=120) as client:
            token = (await client.post(LOGIN, json={"username": "li", "password": PASSWORD})).json()["token"]
            headers = {"Authorization": f"Bearer {token}"}
            idle = await agent_reads(client, headers, seconds)
            stop = multiprocessing.Event()
            results: Queue[dict[int, int]] = multiprocessing.Queue()
            per_process = [clients // PROCESSES + (i < clients % PROCESSES) for i in range(PROCESSES)]
            flooders = [
                multiprocessing.Process(target=flood_process, args=(base, n, stop, results)) for n in per_process
            ]
            for process in flooders:
                process.start()
            await asyncio.sleep(2.0)
            flooded = await agent_reads(client, headers, seconds)
            stop.set()
            statuses: Counter[int] = Counter()
            for _ in flooders:
                statuses.update(await asyncio.to_thread(results.get))
            for process in flooders:
                await asyncio.to_thread(process.join)
        server.should_exit = True
        await serving
        engine.dispose()
    (idle_p50, idle_p99), (flood_p50, flood_p99) = figures(idle), figures(flooded)
    print(f"agent reads, no flood:   {len(idle)} reads, p50 {idle_p50 * 1000:.1f} ms, p99 {idle_p99 * 1000:.1f} ms")
    print(
        f"agent reads, {clients} flooding: {len(flooded)} reads, p50 {flood_p50 * 1000:.1f} ms, p99 {flood_p99 * 1000:.1f} ms"
    )
    print(f"ratio flood/no flood:    p50 {flood_p50 / idle_p50:.1f}x, p99 {flood_p99 / idle_p99:.1f}x")
    print(f"flood sign-ins: {sum(statuses.values())}, by status {dict(sorted(statuses.items()))}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=48)
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    asyncio.run(main(args.clients, args.seconds))
