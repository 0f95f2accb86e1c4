"""Work orders (工单): intake, dispatch by responsibility, handling, reply, return visit — every
change through the domain's rules, stored with its audit entry in one transaction."""

from __future__ import annotations

import dataclasses
import logging
from datetime import UTC, datetime, timedelta
from typing import Literal
from uuid import UUID, uuid4

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from agent_api.context import ApiContext, client_address, context, db, require
from agent_api.errors import AllowedActionsOut, MissingPartsOut, responses
from domain.errors import NotFound
from domain.privacy import caller_view
from domain.sla import Deadlines, SlaState, UrgentState, sla_state, urgent_state
from domain.tickets import (
    OPEN_STATUSES,
    Action,
    Actor,
    Command,
    NotAcceptedReason,
    Reply,
    Role,
    Satisfaction,
    Ticket,
    TicketStatus,
    apply,
    public_progress,
)
from routing.departments import DepartmentTree
from routing.duplicates import duplicate_candidates, prior_request
from services.draft_feedback import note_draft_outcome
from services.ticket_intake import TicketIn, ticket_under
from storage.database import DATABASE_UNREACHABLE
from storage.departments import list_departments
from storage.tickets import (
    ReceiptTaken,
    audit_trail,
    list_tickets,
    load_ticket,
    load_ticket_with_deadlines,
    number_for_receipt,
    ticket_units,
    tickets_created_between,
)
from storage.users import User

log = logging.getLogger(__name__)
router = APIRouter(prefix="/api/v1", tags=["tickets"])
STAFF = ("agent", "supervisor", "department")
UNIT_ACTIONS = (Action.DISPATCH, Action.REDISPATCH, Action.PASS_DOWN)


class ReplyIn(BaseModel):
    response: str = ""
    handling_unit: str = ""
    handled_at: datetime | None = None
    method: str = ""
    process: str = ""
    result: str = ""
    finished: bool = True
    reason: str = ""
    progress: str = ""
    next_steps: str = ""


class CommandIn(BaseModel):
    """An action on a ticket; which fields it needs depends on the action (see the 409/422 replies)."""

    action: Action = Field(examples=["dispatch"])
    not_accepted_reason: NotAcceptedReason | None = None
    answer: str | None = None
    unit_code: str | None = Field(default=None, examples=["zjj"])
    level: int = Field(default=2, ge=2, le=3)
    parent_unit_code: str | None = None
    reason: str | None = None
    reply: ReplyIn | None = None
    satisfaction: Satisfaction | None = None
    unit_at_fault: bool | None = None
    days: int | None = Field(default=None, ge=1, le=60)
    master_number: str | None = None
    note: str = Field(default="", max_length=2000)

    def command(self) -> Command:
        data = self.model_dump(exclude={"action", "reply"})
        reply = Reply(**self.reply.model_dump()) if self.reply else None
        return Command(self.action, reply=reply, **data)


def _actor(user: User) -> Actor:
    return Actor(user.username, Role(user.role), user.unit_code)


@dataclasses.dataclass(frozen=True)
class TicketOut(Ticket):
    """A ticket as the signed-in user may see it (caller identity per role), with its time limits.
    `deadline_provisional`: the deadline was counted on a year whose holiday notice has not been
    entered yet (weekends only); it moves when the year is confirmed."""

    deadline_at: datetime | None = None
    warning_at: datetime | None = None
    deadline_provisional: bool = False
    sla: SlaState | None = None
    urgent_state: UrgentState | None = None


def _view(ticket: Ticket, deadlines: Deadlines | None, user: User) -> TicketOut:
    caller = caller_view(ticket, Role(user.role))
    open_ = ticket.status in OPEN_STATUSES and ticket.status is not TicketStatus.DRAFT
    now = datetime.now(UTC)
    return TicketOut(
        **{f.name: getattr(ticket, f.name) for f in dataclasses.fields(ticket)}
        | {"caller_name": caller.name, "caller_number": caller.number},
        deadline_at=deadlines.close_by if deadlines else None,
        warning_at=deadlines.warn_at if deadlines else None,
        deadline_provisional=deadlines.provisional if deadlines else False,
        sla=sla_state(deadlines.close_by, deadlines.warn_at, now) if deadlines and open_ else None,
        urgent_state=urgent_state(ticket.created_at, ticket.contacted_at, ticket.on_site_at, now)
        if ticket.urgent
        else None,
    )


def _visible(
    session: Session, found: tuple[Ticket, Deadlines | None] | None, number: str, user: User
) -> tuple[Ticket, Deadlines | None]:
    """The ticket, if this user may see it: department users only their own unit's (404 otherwise,
    so other units' ticket numbers are not revealed)."""
    if found is None or (user.role == "department" and user.unit_code not in ticket_units(session, number)):
        raise NotFound(f"no ticket {number}", code="ticket_not_found")
    return found


class TicketKept(BaseModel):
    receipt: UUID
    accepted_at: datetime
    detail: str


KEPT_DETAIL = "the database is unreachable: the ticket is kept and will be stored and numbered when it is back"


@router.post(
    "/tickets",
    status_code=201,
    summary="Record a request as a draft ticket",
    responses={
        202: {
            "model": TicketKept,
            "description": "the database is unreachable: the ticket is kept under "
            "its receipt and stored when it is back (GET /ticket-receipts/{receipt}; a ticket_stored live event)",
        }
    },
)
def create_ticket(
    body: TicketIn,
    idempotency_key: UUID | None = Header(
        default=None, description="a UUID the desktop makes for each new ticket: a retried request records it once"
    ),
    user: User = Depends(require("agent", "supervisor")),
    ctx: ApiContext = Depends(context),
) -> TicketOut:
    receipt, accepted_at = str(idempotency_key or uuid4()), datetime.now(UTC)
    try:
        with ctx.sessions() as session, session.begin():
            ticket = ctx.intake.record_ticket(session, receipt, user.username, Role(user.role), accepted_at, body)
            deadlines = ctx.intake.deadlines(session, ticket)
    except ReceiptTaken:
        with ctx.sessions() as session:  # the same key, recorded by a concurrent retry meanwhile
            recorded = ticket_under(session, receipt)
            if recorded is None:
                raise
            ticket, deadlines = recorded, ctx.intake.deadlines(session, recorded)
    except DATABASE_UNREACHABLE:
        if ctx.ticket_backlog is None:
            raise
        if not ctx.ticket_backlog.holds(receipt):
            ctx.ticket_backlog.keep_ticket(receipt, user.username, Role(user.role), accepted_at, body)
            log.warning("database unreachable: ticket of %s kept as %s", user.username, receipt)
        kept = TicketKept(receipt=UUID(receipt), accepted_at=accepted_at, detail=KEPT_DETAIL)
        return JSONResponse(kept.model_dump(mode="json"), status_code=202)  # type: ignore[return-value]
    return _view(ticket, deadlines, user)


class ReceiptOut(BaseModel):
    receipt: UUID
    state: Literal["kept", "stored"]
    number: str | None = Field(description="the ticket's number once stored")


@router.get("/ticket-receipts/{receipt}", summary="What became of a ticket recorded while the database was down")
def get_receipt(
    receipt: UUID, _: User = Depends(require("agent", "supervisor")), ctx: ApiContext = Depends(context)
) -> ReceiptOut:
    if ctx.ticket_backlog is not None and ctx.ticket_backlog.holds(str(receipt)):
        return ReceiptOut(receipt=receipt, state="kept", number=None)
    with ctx.sessions() as session:
        number = number_for_receipt(session, str(receipt))
    if number is None:
        raise NotFound(f"no ticket recorded under receipt {receipt}", code="receipt_not_found")
    return ReceiptOut(receipt=receipt, state="stored", number=number)


@router.get("/tickets", summary="Tickets, newest first; department users see their unit's only")
def get_tickets(
    status_: TicketStatus | None = Query(default=None, alias="status"),
    limit: int = Query(default=50, ge=1, le=500),
    user: User = Depends(require(*STAFF, "admin")),
    session: Session = Depends(db),
) -> list[TicketOut]:
    unit = user.unit_code if user.role == "department" else None
    return [_view(t, d, user) for t, d in list_tickets(session, str(status_) if status_ else None, unit, limit)]


@router.get("/tickets/{number}", summary="One ticket", responses=responses(404))
def get_ticket(
    number: str, user: User = Depends(require(*STAFF, "admin")), session: Session = Depends(db)
) -> TicketOut:
    return _view(*_visible(session, load_ticket_with_deadlines(session, number), number, user), user)


class AuditOut(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    at: datetime
    actor: str
    role: str
    action: str = Field(description="an action of the ticket (accept, dispatch …), create, or deadline_moved")
    from_: str | None = Field(alias="from", serialization_alias="from")
    to: str
    note: str | None


@router.get("/tickets/{number}/audit", summary="The ticket's append-only audit trail", responses=responses(404))
def get_audit(
    number: str, user: User = Depends(require(*STAFF, "admin")), session: Session = Depends(db)
) -> list[AuditOut]:
    _visible(session, load_ticket_with_deadlines(session, number), number, user)
    return [
        AuditOut(at=r.at, actor=r.actor, role=r.role, action=r.action, from_=r.from_status, to=r.to_status, note=r.note)
        for r in audit_trail(session, number)
    ]


@router.post(
    "/tickets/{number}/actions",
    summary="Apply an action (accept, dispatch, sign, reply, visit, close, …)",
    responses=responses(403, 404, 409, 422, s409=AllowedActionsOut, s422=MissingPartsOut),
)
def act(
    number: str,
    body: CommandIn,
    user: User = Depends(require(*STAFF)),
    session: Session = Depends(db),
    ctx: ApiContext = Depends(context),
) -> TicketOut:
    ticket, _ = _visible(session, load_ticket_with_deadlines(session, number), number, user)
    tree = None  # read only for the actions that name a unit (a city has up to ~1,300 of them)
    if body.action in UNIT_ACTIONS:
        tree = DepartmentTree(list_departments(session))
        if body.unit_code and tree.get(body.unit_code) is None:
            raise NotFound(f"no department {body.unit_code}", code="department_not_found")
    changed, entry = apply(
        ticket, body.command(), _actor(user), datetime.now(UTC), is_subunit=tree.is_subunit if tree else None
    )
    deadlines = ctx.intake.save(session, changed, entry)
    if body.action is Action.DISPATCH:
        note_draft_outcome(session, changed, body.unit_code)
    return _view(changed, deadlines, user)


class DuplicateOut(BaseModel):
    number: str
    similarity: float = Field(description="0-100")
    reason: str
    created_at: datetime


@router.get(
    "/tickets/{number}/duplicates",
    summary="Earlier or later tickets from the same caller or place, alike in content",
    responses=responses(404),
)
def get_duplicates(
    number: str,
    within_days: int = Query(default=30, ge=1, le=365),
    user: User = Depends(require("agent", "supervisor")),
    session: Session = Depends(db),
) -> list[DuplicateOut]:
    ticket, _ = _visible(session, load_ticket_with_deadlines(session, number), number, user)
    window = timedelta(days=within_days)
    nearby = tickets_created_between(session, ticket.created_at - window, ticket.created_at + window)
    found = duplicate_candidates(prior_request(ticket), [prior_request(t) for t in nearby], within_days=within_days)
    return [
        DuplicateOut(number=prior.number, similarity=round(similarity, 1), reason=reason, created_at=prior.created_at)
        for prior, similarity, reason in found
    ]


class ProgressOut(BaseModel):
    number: str
    status: str = Field(examples=["已办结"])


def _progress_lookup(request: Request, ctx: ApiContext = Depends(context)) -> str:
    """The client's address, refused (429) after too many lookups that found nothing: numbers are
    the date and a sequence number, easy to guess."""
    address = client_address(request)
    ctx.progress_throttle.check(address)
    return address


@router.get(
    "/public/progress",
    tags=["public"],
    summary="A ticket's status, for the caller (no sign-in)",
    responses=responses(404, 429),
)
def progress(
    number: str = Query(pattern=r"^[0-9]{13}$", examples=["2026112100001"]),
    phone: str = Query(pattern=r"^\+?[0-9]{3,20}$", examples=["13800138000"]),
    address: str = Depends(_progress_lookup),
    session: Session = Depends(db),
    ctx: ApiContext = Depends(context),
) -> ProgressOut:
    ticket = load_ticket(session, number)
    if ticket is None or ticket.caller_number != phone:
        ctx.progress_throttle.missed(address)
        raise NotFound("no ticket with this number for this phone number", code="ticket_not_found")
    return ProgressOut.model_validate(public_progress(ticket))
