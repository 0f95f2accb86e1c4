"""Issue 20 item 8: the public progress lookup (no sign-in) can be enumerated — 1,000 lookups in 2 s, and
ticket numbers are the date and a sequence number. It must be throttled per client (429 with
Retry-After well before 1,000 guesses), a miss must say no more than "no such ticket for this phone",
and a hit must reveal only the status (replies and answers need a second factor, later)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

PROGRESS = "/api/v1/public/progress"
PHONE = "13800138000"
THROTTLED_WITHIN = 100  # lookups from one client; "well before 1,000"


@pytest.fixture
def ticket_number(api: TestClient, login: Callable[..., dict[str, str]]) -> str:
    reply = api.post(
        "/api/v1/tickets",
        json={
            "request_type": "complaint",
            "content": "小区楼下烧烤店每晚油烟扰民。",
            "caller_number": PHONE,
            "caller_name": "王女士",
        },
        headers=login("agent"),
    )
    assert reply.status_code == 201, reply.text
    return reply.json()["number"]


def test_guessing_ticket_numbers_is_throttled(api: TestClient, ticket_number: str) -> None:
    wrong_phone = api.get(PROGRESS, params={"number": ticket_number, "phone": "13900139000"})
    day, sequence = ticket_number[:8], int(ticket_number[8:])
    replies = []
    for guess in range(sequence + 1, sequence + 1001):
        reply = api.get(PROGRESS, params={"number": f"{day}{guess:05d}", "phone": PHONE})
        replies.append(reply)
        if reply.status_code == 429:
            break
    misses = [r for r in replies if r.status_code != 429]

    # A miss says only that: the same for a ticket that exists (with another phone) as for one that does not.
    assert {(r.status_code, r.text) for r in [wrong_phone, *misses]} == {(404, misses[0].text)}
    assert replies[-1].status_code == 429, f"{len(replies)} guesses, none throttled"
    assert len(replies) <= THROTTLED_WITHIN, f"throttled only after {len(replies)} guesses"
    assert int(replies[-1].headers["Retry-After"]) > 0


def test_a_progress_hit_reveals_only_the_status(api: TestClient, ticket_number: str) -> None:
    reply = api.get(PROGRESS, params={"number": ticket_number, "phone": PHONE})

    assert reply.status_code == 200, reply.text
    assert set(reply.json()) <= {"number", "status"}, reply.json()
