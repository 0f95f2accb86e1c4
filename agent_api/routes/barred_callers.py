"""Callers barred from 12345 for harassing, insulting or threatening agents (30 days by default)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from agent_api.context import db, require
from domain.privacy import number_seen_by
from domain.tickets import Role
from storage.barred_callers import BarredCaller, bar_caller, list_barred
from storage.users import User

router = APIRouter(prefix="/api/v1/barred-callers", tags=["barred callers"])
DEFAULT_DAYS = 30


class BarRequest(BaseModel):
    number: str = Field(pattern=r"^\+?[0-9]{3,20}$", examples=["13800138000"])
    reason: str = Field(min_length=2, max_length=500, examples=["多次辱骂话务员"])
    days: int = Field(default=DEFAULT_DAYS, ge=1, le=365, description="calendar days, from now")


class Bar(BaseModel):
    number: str
    reason: str
    barred_from: datetime
    barred_until: datetime
    decided_by: str


def _bar(b: BarredCaller, user: User) -> Bar:
    """Admins see the number masked, as every caller number they see."""
    return Bar(
        number=number_seen_by(b.number, Role(user.role)),
        reason=b.reason,
        barred_from=b.barred_from,
        barred_until=b.barred_until,
        decided_by=b.decided_by,
    )


@router.post("", status_code=201, summary="Bar a caller from 12345 (the IVR refuses the number)")
def create_bar(
    body: BarRequest, user: User = Depends(require("supervisor", "admin")), session: Session = Depends(db)
) -> Bar:
    now = datetime.now(UTC)
    return _bar(
        bar_caller(session, body.number, body.reason, user.username, now, now + timedelta(days=body.days)), user
    )


@router.get("", summary="Bars in force now")
def get_bars(
    user: User = Depends(require("agent", "supervisor", "admin")), session: Session = Depends(db)
) -> list[Bar]:
    return [_bar(b, user) for b in list_barred(session, datetime.now(UTC))]
