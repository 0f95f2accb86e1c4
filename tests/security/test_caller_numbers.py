"""Issue 20 items 11 and 12: admins see barred callers' numbers masked like every other caller number
they see, and callbacks refuse numbers the centre must never dial with caller ID 12345: emergency and
service numbers, premium-rate numbers and international numbers."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient


def test_admins_see_barred_callers_numbers_masked(api: TestClient, login: Callable[..., dict[str, str]]) -> None:
    barred = api.post(
        "/api/v1/barred-callers",
        json={"number": "13800138000", "reason": "多次辱骂话务员"},
        headers=login("supervisor"),
    )
    assert barred.status_code == 201, barred.text

    listed = api.get("/api/v1/barred-callers", headers=login("admin"))

    assert listed.status_code == 200, listed.text
    assert [bar["number"] for bar in listed.json()] == ["138****8000"]
    assert "13800138000" not in listed.text


@pytest.mark.parametrize(
    "number",
    [
        "110",
        "119",
        "120",
        "12345",  # police, fire, ambulance, the hotline itself
        "16888123456",  # premium-rate (168 information services)
        "+441632960000",
        "00441632960000",  # international
    ],
)
def test_callbacks_refuse_numbers_that_must_not_be_dialled(
    api: TestClient, login: Callable[..., dict[str, str]], number: str
) -> None:
    agent = login("agent")
    ordinary = api.post("/api/v1/callbacks", json={"caller_number": "13800138000"}, headers=agent)
    assert ordinary.status_code == 201, ordinary.text  # the request itself is well-formed

    reply = api.post("/api/v1/callbacks", json={"caller_number": number}, headers=agent)

    assert reply.status_code == 422, (number, reply.status_code, reply.text[:300])
    assert reply.json().get("detail")
