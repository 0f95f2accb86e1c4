"""The working calendar through the admin API, on SQLite and PostgreSQL: next year's notice previewed
and entered, the department handling a ticket seeing its new deadline, bad files refused with
every error, and the health and daily report warning while next year is missing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection
from sqlalchemy.orm import Session

from agent_api.app import create_app
from agent_api.context import ApiContext
from domain.tickets import SHANGHAI, Channel, RequestType, Role
from hotline.health import system_warnings
from services.calendar import WorkingCalendars
from services.ticket_intake import TicketIntake

NOTICE_2027 = (Path(__file__).parents[1] / "data" / "calendar-2027.yaml").read_text(encoding="utf-8")
DEPARTMENTS = [{"code": "cgj", "name": "城管执法局", "duties": "市容环境卫生", "keywords": ["垃圾"]}]


@pytest.fixture
def staff(api: TestClient, login: Callable[..., dict[str, str]]) -> dict[str, dict[str, str]]:
    people = {
        "agent": login("agent"),
        "admin": login("admin"),
        "supervisor": login("supervisor"),
        "cgj": login("department", unit_code="cgj"),
    }
    assert api.put("/api/v1/departments", json=DEPARTMENTS, headers=people["admin"]).status_code == 200
    return people


def late_december_complaint(connection: Connection, api: TestClient, agent: dict[str, str]) -> str:
    """A complaint accepted Sun 2026-12-20, dispatched to cgj: 15 working days run into 2027."""
    with Session(bind=connection, join_transaction_mode="create_savepoint") as session, session.begin():
        ticket = TicketIntake(WorkingCalendars(lambda: session)).open_ticket(
            session,
            "agent-centre",
            Role.AGENT,
            datetime(2026, 12, 20, 10, 0, tzinfo=SHANGHAI),
            request_type=RequestType.COMPLAINT,
            channel=Channel.PHONE,
            content="小区门口垃圾堆放多日无人清运",
        )
    for command in ({"action": "accept"}, {"action": "dispatch", "unit_code": "cgj"}):
        assert api.post(f"/api/v1/tickets/{ticket.number}/actions", json=command, headers=agent).status_code == 200
    return ticket.number


def test_next_years_notice_previewed_then_entered_moves_the_departments_deadline(
    api: TestClient, connection: Connection, staff: dict[str, dict[str, str]]
) -> None:
    number = late_december_complaint(connection, api, staff["agent"])
    seen = api.get(f"/api/v1/tickets/{number}", headers=staff["cgj"]).json()
    assert seen["deadline_at"].startswith("2027-01-08T15:59:59") and seen["deadline_provisional"] is True

    years = {y["year"]: y for y in api.get("/api/v1/admin/calendar/years", headers=staff["supervisor"]).json()}
    assert years[2027]["state"] == "provisional" and years[2026]["state"] == "confirmed"

    body = {"source": NOTICE_2027, "file_name": "2027.yaml"}
    preview = api.post("/api/v1/admin/calendar/preview", json=body, headers=staff["admin"])
    assert preview.status_code == 200, preview.text
    planned = preview.json()
    assert planned["version"] is None and planned["deadlines"]["deadlines_moved"] == 1
    assert planned["deadlines"]["by_shift_days"] == {"3": 1}
    assert [(t["number"], t["shift_days"], t["provisional_after"]) for t in planned["moved_tickets"]] == [
        (number, 3, False)
    ]
    assert api.get(f"/api/v1/tickets/{number}", headers=staff["cgj"]).json()["deadline_provisional"] is True

    entered = api.post("/api/v1/admin/calendar/notices", json=body, headers=staff["admin"])
    assert entered.status_code == 201, entered.text
    assert entered.json()["version"] == 1 and entered.json()["moved_tickets"] == planned["moved_tickets"]

    now_seen = api.get(f"/api/v1/tickets/{number}", headers=staff["cgj"]).json()
    assert now_seen["deadline_at"].startswith("2027-01-11T15:59:59") and now_seen["deadline_provisional"] is False
    trail = api.get(f"/api/v1/tickets/{number}/audit", headers=staff["cgj"]).json()
    assert trail[-1]["action"] == "deadline_moved" and "2027-01-08 → 2027-01-11" in trail[-1]["note"]

    year = api.get("/api/v1/admin/calendar/years/2027", headers=staff["admin"]).json()
    assert year["state"] == "confirmed" and year["national"]["imported_by"] == "admin-centre"
    assert {"day": "2027-01-31", "holiday": "春节", "scope": "national"} in year["make_up_workdays"]
    assert {"day": "2027-01-01", "holiday": "元旦", "scope": "national"} in year["days_off"]
    assert [v["version"] for v in year["history"]] == [1]


def test_a_bad_file_is_refused_with_every_error_and_nothing_changes(
    api: TestClient, staff: dict[str, dict[str, str]]
) -> None:
    bad = NOTICE_2027.replace("2027-02-20]", "2027-02-22]").replace("scope: national", "scope: national\ncolour: red")
    reply = api.post(
        "/api/v1/admin/calendar/notices", json={"source": bad, "file_name": "x.yaml"}, headers=staff["admin"]
    )
    assert reply.status_code == 422
    assert reply.json()["errors"] == [{"where": "colour", "problem": "unknown field: remove it or check its spelling"}]
    bad = NOTICE_2027.replace("2027-02-20]", "2027-02-22]").replace("to: 2027-01-03}", "to: 2028-01-03}")
    reply = api.post("/api/v1/admin/calendar/preview", json={"source": bad}, headers=staff["admin"])
    assert [e["where"] for e in reply.json()["errors"]] == [
        "holidays[0].days_off.to",
        "holidays[0].days_off",
        "holidays[1].make_up_workdays[1]",
    ]
    years = {y["year"]: y for y in api.get("/api/v1/admin/calendar/years", headers=staff["admin"]).json()}
    assert years[2027]["state"] == "provisional"


def test_health_and_the_daily_report_warn_while_next_year_is_missing(
    connection: Connection, api: TestClient, staff: dict[str, dict[str, str]]
) -> None:
    calendars = WorkingCalendars(lambda: Session(bind=connection, join_transaction_mode="create_savepoint"))
    ctx = ApiContext(
        sessions=lambda: Session(bind=connection, join_transaction_mode="create_savepoint"),
        health=lambda: {"database": True},
        health_warnings=system_warnings(calendars),
    )
    health = TestClient(create_app(ctx)).get("/api/v1/health")
    today = date.today()
    expects_warning = today >= date(today.year, 11, 1) or today.year > 2026  # the test database knows up to 2026
    assert health.status_code == 200 and bool(health.json()["warnings"]) is expects_warning
    daily = api.get("/api/v1/reports/daily", params={"day": "2026-12-07"}, headers=staff["supervisor"]).json()
    assert any("2027" in w for w in daily["calendar_warnings"])
    assert (
        api.post("/api/v1/admin/calendar/notices", json={"source": NOTICE_2027}, headers=staff["admin"]).status_code
        == 201
    )
    assert (
        api.get("/api/v1/reports/daily", params={"day": "2026-12-07"}, headers=staff["supervisor"]).json()[
            "calendar_warnings"
        ]
        == []
    )
