"""The working calendar for admins (日历管理): the years and their state, a year's days off and
make-up working days, and entering a year's notice, with a preview of what it changes first."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path
from pydantic import BaseModel, Field

from agent_api.context import ApiContext, context, require
from agent_api.errors import NamedErrorsOut, responses
from domain.calendar import FIRST_YEAR, LAST_YEAR, Scope, YearState
from domain.calendar_notice import MAX_NOTICE_BYTES
from domain.deadline_moves import DeadlineMove
from domain.tickets import SHANGHAI
from services.calendar import CalendarChange, CalendarStatus, YearOverview
from storage.calendar import NoticeVersion
from storage.users import User

router = APIRouter(prefix="/api/v1/admin/calendar", tags=["calendar"])
ADMIN = require("admin")
READERS = require("admin", "supervisor")
MOVES_LISTED = 500  # a preview lists this many moved tickets; the summary counts them all
Year = Annotated[int, Path(ge=FIRST_YEAR, le=LAST_YEAR)]


class NoticeIn(BaseModel):
    source: str = Field(
        max_length=MAX_NOTICE_BYTES, description="the notice file's text, YAML or JSON (see domain/calendars/2026.yaml)"
    )
    file_name: str = Field(default="notice.yaml", min_length=1, max_length=255, examples=["2027.yaml"])


class NoticeVersionOut(BaseModel):
    version: int
    title: str
    source_file: str
    source_sha256: str
    imported_by: str
    imported_at: datetime
    note: str


class YearOut(BaseModel):
    year: int
    state: YearState = Field(description="confirmed: the national notice is entered; provisional: weekends off only")
    national: NoticeVersionOut | None
    local: NoticeVersionOut | None


class DayOut(BaseModel):
    day: date
    holiday: str
    scope: Scope


class YearDetailOut(YearOut):
    days_off: list[DayOut] = Field(description="holidays' days off, weekends within them included")
    make_up_workdays: list[DayOut]
    history: list[NoticeVersionOut]


class StatusOut(BaseModel):
    today: date
    confirmed_until: date | None
    missing_years: list[int]
    warnings: list[str]


class DayChangeOut(BaseModel):
    day: date
    was_workday: bool
    is_workday: bool


class MovedTicketOut(BaseModel):
    number: str
    deadline_before: datetime | None
    deadline_after: datetime
    shift_days: int | None
    provisional_before: bool | None
    provisional_after: bool


class DeadlinesOut(BaseModel):
    tickets_rechecked: int
    deadlines_moved: int
    deadlines_set: int = Field(description="tickets that had no deadline before")
    by_shift_days: dict[int, int] = Field(description="calendar days moved (negative: earlier) -> tickets")
    provisional_before: int
    provisional_after: int


class ChangeOut(BaseModel):
    year: int
    scope: Scope
    title: str
    version: int | None = Field(description="the version stored; null for a preview")
    replaces_version: int | None
    days_off: int
    make_up_workdays: int
    day_changes: list[DayChangeOut]
    deadlines: DeadlinesOut
    moved_tickets: list[MovedTicketOut] = Field(description=f"at most {MOVES_LISTED}; `deadlines` counts them all")


REFUSALS = responses(409, 422, s422=NamedErrorsOut)  # 422: `errors` names each field at fault; nothing stored


def _version(version: NoticeVersion | None) -> NoticeVersionOut | None:
    if version is None:
        return None
    return NoticeVersionOut(
        version=version.version,
        title=version.notice.title,
        source_file=version.source_file,
        source_sha256=version.source_sha256,
        imported_by=version.imported_by,
        imported_at=version.imported_at,
        note=version.note,
    )


def _year(overview: YearOverview) -> YearOut:
    return YearOut(
        year=overview.year, state=overview.state, national=_version(overview.national), local=_version(overview.local)
    )


def _moved(move: DeadlineMove) -> MovedTicketOut:
    before = move.before
    return MovedTicketOut(
        number=move.number,
        deadline_before=before.close_by if before else None,
        deadline_after=move.after.close_by,
        shift_days=move.shift_days,
        provisional_before=before.provisional if before else None,
        provisional_after=move.after.provisional,
    )


def _change(change: CalendarChange) -> ChangeOut:
    notice = change.notice
    summary = change.summary
    return ChangeOut(
        year=notice.year,
        scope=notice.scope,
        title=notice.title,
        version=change.version,
        replaces_version=change.replaces_version,
        days_off=len(notice.days_off()),
        make_up_workdays=len(notice.make_up_workdays()),
        day_changes=[
            DayChangeOut(day=c.day, was_workday=c.was_workday, is_workday=c.is_workday) for c in change.day_changes
        ],
        deadlines=DeadlinesOut(**summary.__dict__),
        moved_tickets=[_moved(m) for m in change.moves[:MOVES_LISTED]],
    )


@router.get("/years", summary="Years of the working calendar and their state (this year and next always listed)")
def get_years(_: User = Depends(READERS), ctx: ApiContext = Depends(context)) -> list[YearOut]:
    return [_year(overview) for overview in ctx.calendars.years()]


@router.get("/years/{year}", summary="A year's days off and make-up working days, and every version entered")
def get_year(year: Year, _: User = Depends(READERS), ctx: ApiContext = Depends(context)) -> YearDetailOut:
    overview = ctx.calendars.year(year)
    notices = [v.notice for v in (overview.national, overview.local) if v is not None]
    days_off = sorted(
        (DayOut(day=d, holiday=h.name, scope=n.scope) for n in notices for h in n.holidays for d in h.days_off()),
        key=lambda d: d.day,
    )
    make_up = sorted(
        (DayOut(day=d, holiday=h.name, scope=n.scope) for n in notices for h in n.holidays for d in h.make_up_workdays),
        key=lambda d: d.day,
    )
    history = [v for v in (_version(v) for v in ctx.calendars.history(year)) if v is not None]
    return YearDetailOut(**_year(overview).model_dump(), days_off=days_off, make_up_workdays=make_up, history=history)


@router.get("/status", summary="How far the calendar is confirmed, and which year's notice is due")
def get_status(_: User = Depends(READERS), ctx: ApiContext = Depends(context)) -> StatusOut:
    status: CalendarStatus = ctx.calendars.status(datetime.now(SHANGHAI).date())
    return StatusOut(
        today=status.today,
        confirmed_until=status.confirmed_until,
        missing_years=status.missing_years,
        warnings=status.warnings,
    )


@router.post(
    "/preview",
    summary="What entering a notice would change: days, and open tickets' deadlines; nothing is stored",
    responses={422: REFUSALS[422]},
)
def preview(body: NoticeIn, _: User = Depends(ADMIN), ctx: ApiContext = Depends(context)) -> ChangeOut:
    return _change(ctx.calendars.preview(body.source, body.file_name))


@router.post(
    "/notices",
    status_code=201,
    responses=REFUSALS,
    summary="Enter a year's notice (national, or the city's closed days) as the year's next version, moving the "
    "deadlines it moves, in one transaction",
)
def enter_notice(body: NoticeIn, user: User = Depends(ADMIN), ctx: ApiContext = Depends(context)) -> ChangeOut:
    return _change(ctx.calendars.enter(body.source, body.file_name, user.username, user.role))
