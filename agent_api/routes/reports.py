"""Figures the centre reports: KPIs by period, department and type; the daily report (日报); how good the
speech drafts are."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from fastapi import APIRouter, Depends, Query
from sqlalchemy.orm import Session

from agent_api.context import ApiContext, context, db, require
from agent_api.params import day_query
from agent_api.report_models import DailyOut, DraftsOut, KpisOut
from domain.drafts import draft_accuracy
from domain.errors import Invalid
from domain.kpis import call_kpis, daily_report, ticket_kpis
from domain.sla import working_days_between
from domain.tickets import SHANGHAI, RequestType
from services.calendar import CalendarStatus
from storage.call_records import call_records_between
from storage.speech import draft_outcomes
from storage.tickets import ticket_facts
from storage.users import User

router = APIRouter(prefix="/api/v1/reports", tags=["reports"])


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, SHANGHAI)


@router.get(
    "/kpis",
    summary="Ticket and call KPIs for [start, end] (Shanghai days), optionally one unit or type",
    response_model_exclude_unset=True,  # `calls` only for the whole centre
)
def kpis(
    start: date = day_query("2026-11-01"),
    end: date = day_query("2026-11-30"),
    unit: str | None = Query(default=None, description="department code"),
    request_type: RequestType | None = Query(default=None, alias="type"),
    _: User = Depends(require("supervisor", "admin")),
    session: Session = Depends(db),
    ctx: ApiContext = Depends(context),
) -> KpisOut:
    if end < start:
        raise Invalid("end is before start", code="invalid_range")
    since, until = _day_start(start), _day_start(end + timedelta(days=1))
    facts = ticket_facts(session, since, until, unit, str(request_type) if request_type else None)
    calendar = ctx.calendars.current(session)
    tickets = ticket_kpis(facts, lambda a, b: working_days_between(a, b, calendar))
    report: dict = {
        "start": start.isoformat(),
        "end": end.isoformat(),
        "unit": unit,
        "tickets": tickets,
        # Working days of a provisional year are weekdays: the figures shift once its notice is entered.
        "calendar_provisional": calendar.spans_provisional(start, end),
    }
    if unit is None and request_type is None:
        report["calls"] = call_kpis(call_records_between(session, since, until))
    return KpisOut.model_validate(report)


@router.get("/daily", summary="日报: volumes, top types and places, largest day-over-day rises")
def daily(
    day: date = day_query("2026-11-21"),
    _: User = Depends(require("supervisor", "admin")),
    session: Session = Depends(db),
    ctx: ApiContext = Depends(context),
) -> DailyOut:
    today = ticket_facts(session, _day_start(day), _day_start(day + timedelta(days=1)))
    yesterday = ticket_facts(session, _day_start(day - timedelta(days=1)), _day_start(day))
    calendar = CalendarStatus.of(ctx.calendars.current(session), day)
    return DailyOut.model_validate(daily_report(day, today, yesterday) | {"calendar_warnings": calendar.warnings})


@router.get("/drafts", summary="How much of the speech drafts agents kept, per field, for [start, end] (Shanghai days)")
def drafts(
    start: date = day_query("2026-11-01"),
    end: date = day_query("2026-11-30"),
    _: User = Depends(require("supervisor", "admin")),
    session: Session = Depends(db),
) -> DraftsOut:
    if end < start:
        raise Invalid("end is before start", code="invalid_range")
    changes = draft_outcomes(session, _day_start(start), _day_start(end + timedelta(days=1)))
    return DraftsOut(start=start.isoformat(), end=end.isoformat(), drafts=len(changes), kept=draft_accuracy(changes))
