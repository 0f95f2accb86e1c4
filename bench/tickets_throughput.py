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

from domain.sla import SlaPolicy, deadline_for  # noqa: E402
from domain.tickets import (  # noqa: E402
    SHANGHAI, Action, Actor, AuditEntry, Channel, Command, RequestType, Role, Ticket, TicketStatus, apply,
)
from storage.database import make_engine, make_session_factory  # noqa: E402
from storage.migrate import upgrade_database  # noqa: E402
from storage.tickets import insert_ticket, load_ticket, next_ticket_number, save_change  # noqa: E402

AGENT = Actor("agent1", Role.AGENT)
POLICY = SlaPolicy()


def one_ticket(sessions, i: int) -> float:
    started = time.perf_counter()
    now = datetime.now(UTC)
    with sessions.begin() as session:
        number = next_ticket_number(session, now.astimezone(SHANGHAI).date())
        ticket = Ticket(number=number, request_type=RequestType.COMPLAINT, channel=Channel.PHONE,
                        content=f"第{i}号：小区噪音扰民，晚上施工", created_at=now, caller_number="13800138000",
                        district="鼓楼区", street="东街街道")
        deadline = deadline_for(ticket.request_type, False, now, POLICY).close_by
        insert_ticket(session, ticket, AuditEntry(number, now, "agent1", Role.AGENT, "create", None, TicketStatus.DRAFT, ""), deadline)
    with sessions.begin() as session:
        ticket = load_ticket(session, number)
        for command in (Command(Action.ACCEPT), Command(Action.DISPATCH, unit_code="cgj")):
            ticket, entry = apply(ticket, command, AGENT, datetime.now(UTC))
            save_change(session, ticket, entry, deadline)
    return time.perf_counter() - started


def run(name: str, url: str, tickets: int, workers: int) -> tuple[str, float, list[float]]:
    upgrade_database(url)
    sessions = make_session_factory(make_engine(url))
    one_ticket(sessions, -1)  # warm-up
    started = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        times = list(pool.map(lambda i: one_ticket(sessions, i), range(tickets)))
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
        results = [run("PostgreSQL", pg_url, args.tickets, args.workers),
                   run("SQLite", sqlite_url, args.tickets, args.workers)]
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql("DROP DATABASE IF EXISTS hotline_bench_tickets WITH (FORCE)")
    print(f"\n{args.tickets} tickets, each created then accepted and dispatched (2 transactions, 3 audit rows), "
          f"{args.workers} threads")
    for name, rate, times in results:
        times.sort()
        print(f"{name:<11} {rate:8.0f} tickets/s   p50 {statistics.median(times) * 1000:6.2f} ms   "
              f"p99 {times[int(len(times) * 0.99)] * 1000:6.2f} ms")
    print(f"ratio PostgreSQL / SQLite: {results[0][1] / results[1][1]:.2f}x")


if __name__ == "__main__":
    main()
