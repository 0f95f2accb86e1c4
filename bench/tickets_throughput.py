"""Benchmark: ticket create + accept + dispatch throughput, through the domain rules and storage
(one transaction per ticket, audit entries included), on PostgreSQL beside SQLite.

    .venv/bin/python bench/tickets_throughput.py [--tickets 3000] [--workers 4]

PostgreSQL: HOTLINE_TEST_POSTGRES_URL's server (default postgres@127.0.0.1/test); a scratch
database is created and dropped. Prints tickets/s and p50/p99 per ticket, and the ratio.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from domain.tickets import Action, Actor, Channel, Command, RequestType, Role, apply  # noqa: E402
from services.calendar import WorkingCalendars  # noqa: E402
from services.ticket_intake import TicketIntake  # noqa: E402
from storage.database import make_engine, make_session_factory  # noqa: E402
from storage.migrate import upgrade_database  # noqa: E402
from storage.tickets import load_ticket  # noqa: E402

AGENT = Actor("agent1", Role.AGENT)


def one_ticket(sessions, intake: TicketIntake, i: int) -> float:
    """As the API does it: the deadline on the working calendar in force (its revision checked each time)."""
    started = time.perf_counter()
    with sessions.begin() as session:
        ticket = intake.open_ticket(
            session,
            "agent1",
            Role.AGENT,
            datetime.now(UTC),
            request_type=RequestType.COMPLAINT,
            channel=Channel.PHONE,
            content=f"第{i}号：小区噪音扰民，晚上施工",
            caller_number="13800138000",
            district="鼓楼区",
            street="东街街道",
        )
    with sessions.begin() as session:
        loaded = load_ticket(session, ticket.number)
        assert loaded is not None
        for command in (Command(Action.ACCEPT), Command(Action.DISPATCH, unit_code="cgj")):
            loaded, entry = apply(loaded, command, AGENT, datetime.now(UTC))
            intake.save(session, loaded, entry)
    return time.perf_counter() - started


def run(name: str, url: str, tickets: int, workers: int) -> tuple[str, float, list[float]]:
    upgrade_database(url)
    sessions = make_session_factory(make_engine(url))
    intake = TicketIntake(WorkingCalendars(sessions))
    one_ticket(sessions, intake, -1)  # warm-up
    started = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        times = list(pool.map(lambda i: one_ticket(sessions, intake, i), range(tickets)))
    return name, tickets / (time.perf_counter() - started), times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tickets", type=int, default=3000)
    parser.add_argument("--workers", type=int, default=4)
    args = parser.parse_args()

    admin_url = os.environ.get("HOTLINE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql("DROP DATABASE IF EXISTS hotline_bench_tickets WITH (FORCE)")
        conn.exec_driver_sql("CREATE DATABASE hotline_bench_tickets")
    pg_url = make_url(admin_url).set(database="hotline_bench_tickets").render_as_string(hide_password=False)
    sqlite_url = f"sqlite:///{tempfile.mkdtemp(prefix='hotline-bench-')}/tickets.db"
    try:
        results = [
            run("PostgreSQL", pg_url, args.tickets, args.workers),
            run("SQLite", sqlite_url, args.tickets, args.workers),
        ]
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql("DROP DATABASE IF EXISTS hotline_bench_tickets WITH (FORCE)")
    print(
        f"\n{args.tickets} tickets, each created then accepted and dispatched (2 transactions, 3 audit rows), "
        f"{args.workers} threads"
    )
    for name, rate, times in results:
        times.sort()
        print(
            f"{name:<11} {rate:8.0f} tickets/s   p50 {statistics.median(times) * 1000:6.2f} ms   "
            f"p99 {times[int(len(times) * 0.99)] * 1000:6.2f} ms"
        )
    print(f"ratio PostgreSQL / SQLite: {results[0][1] / results[1][1]:.2f}x")


if __name__ == "__main__":
    main()
