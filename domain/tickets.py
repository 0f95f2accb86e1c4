"""12345 tickets (工单): the state machine from intake to closing, as pure rules.

`apply` checks one command against the transition table, the actor's role and unit, and the
command's data, and returns the new ticket with its audit entry (全程留痕)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import KW_ONLY, dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any, Self, TypeVar, overload
from zoneinfo import ZoneInfo

from domain.errors import Conflict, Invalid, Refused

SHANGHAI = ZoneInfo("Asia/Shanghai")
T = TypeVar("T")


class LabelledEnum(StrEnum):
    """A str enum whose members also carry a Chinese label: `MEMBER = "value", "中文"`."""

    _zh: str

    # `Role("agent")` looks a member up by its value (EnumMeta.__call__), but type checkers take a call of the
    # class for a call of __new__: the first overload says what that call is, the second what defines a member.
    @overload
    def __new__(cls, value: str) -> Self: ...

    @overload
    def __new__(cls, value: str, zh: str) -> Self: ...

    def __new__(cls, value: str, zh: str = "") -> Self:
        member = str.__new__(cls, value)
        member._value_ = value
        member._zh = zh
        return member

    @property
    def zh(self) -> str:
        return self._zh


class RequestType(LabelledEnum):
    CONSULTATION = "consultation", "咨询"
    HELP = "help", "求助"
    SUGGESTION = "suggestion", "建议"
    COMPLAINT = "complaint", "投诉"
    REPORT = "report", "举报"


class Channel(LabelledEnum):
    PHONE = "phone", "电话"
    WEB = "web", "网站"
    WECHAT = "wechat", "微信"


class Role(LabelledEnum):
    AGENT = "agent", "话务员"
    SUPERVISOR = "supervisor", "班长"
    ADMIN = "admin", "管理员"
    DEPARTMENT = "department", "承办单位"


class Satisfaction(LabelledEnum):
    VERY_SATISFIED = "very_satisfied", "非常满意"
    SATISFIED = "satisfied", "满意"
    BASICALLY_SATISFIED = "basically_satisfied", "基本满意"
    UNSATISFIED = "unsatisfied", "不满意"
    VERY_UNSATISFIED = "very_unsatisfied", "非常不满意"

    @property
    def is_unsatisfied(self) -> bool:
        return self in (Satisfaction.UNSATISFIED, Satisfaction.VERY_UNSATISFIED)


class NotAcceptedReason(LabelledEnum):
    """The fixed list of grounds for 不予受理."""

    OUT_OF_JURISDICTION = "out_of_jurisdiction", "不属于本市管辖"
    OTHER_CHANNEL = "other_channel", "已进入诉讼、仲裁、纪检监察、行政复议、政府信息公开或信访渠道"
    SECRETS_OR_PRIVACY = "secrets_or_privacy", "涉及国家秘密、商业秘密或他人隐私"
    ILLEGAL_ABUSIVE_OR_EMPTY = "illegal_abusive_or_empty", "违法、辱骂或无实质内容"
    REPEATED = "repeated", "重复件"


class TicketStatus(LabelledEnum):
    DRAFT = "draft", "草稿"
    ACCEPTED = "accepted", "已受理"
    NOT_ACCEPTED = "not_accepted", "不予受理"
    ANSWERED_ON_SPOT = "answered_on_spot", "当场解答"
    DISPATCHED = "dispatched", "已派单"
    SIGNED = "signed", "已签收"
    RETURNED = "returned", "已退单"
    RETURN_REVIEW = "return_review", "退单审核"
    REPLIED = "replied", "已答复"
    VISITED = "visited", "已回访"
    CLOSED = "closed", "已办结"
    REHANDLING = "rehandling", "重办"
    SUPERVISED = "supervised", "督办"
    MERGED = "merged", "已合并"


class Action(LabelledEnum):
    ACCEPT = "accept", "受理"
    REJECT = "reject", "不予受理"
    ANSWER_ON_SPOT = "answer_on_spot", "当场解答"
    DISPATCH = "dispatch", "派单"
    SIGN = "sign", "签收"
    PASS_DOWN = "pass_down", "下派"
    RETURN_TICKET = "return_ticket", "退单"
    REDISPATCH = "redispatch", "改派"
    ESCALATE_REVIEW = "escalate_review", "提交退单审核"
    UPHOLD_RETURN = "uphold_return", "同意退单"
    REJECT_RETURN = "reject_return", "驳回退单"
    REPLY = "reply", "答复"
    VISIT = "visit", "回访"
    CLOSE = "close", "办结"
    REHANDLE = "rehandle", "重办"
    SUPERVISE = "supervise", "督办"
    MERGE_INTO = "merge_into", "合并"
    REQUEST_EXTENSION = "request_extension", "申请延期"
    APPROVE_EXTENSION = "approve_extension", "同意延期"
    DENY_EXTENSION = "deny_extension", "不同意延期"
    RECORD_CONTACT = "record_contact", "已联系来电人"
    RECORD_ON_SITE = "record_on_site", "已到达现场"
    RECORD_HANDOFF = "record_handoff", "转110/119/120"


class LegStatus(StrEnum):
    DISPATCHED = "dispatched"
    SIGNED = "signed"
    RETURNED = "returned"
    REPLIED = "replied"


# --- the transition table -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Transition:
    to: TicketStatus
    roles: frozenset[Role]


_S, _A = TicketStatus, Action
CENTRE = frozenset({Role.AGENT, Role.SUPERVISOR})
SUPERVISOR_ONLY = frozenset({Role.SUPERVISOR})
AGENT_ONLY = frozenset({Role.AGENT})
DEPARTMENT_ONLY = frozenset({Role.DEPARTMENT})

TERMINAL_STATUSES = frozenset({_S.NOT_ACCEPTED, _S.ANSWERED_ON_SPOT, _S.CLOSED, _S.MERGED})
OPEN_STATUSES = tuple(s for s in TicketStatus if s not in TERMINAL_STATUSES)
EXTENSION_STATUSES = (_S.DISPATCHED, _S.SIGNED, _S.REHANDLING)

TRANSITIONS: dict[tuple[TicketStatus, Action], Transition] = {
    (_S.DRAFT, _A.ACCEPT): Transition(_S.ACCEPTED, CENTRE),
    (_S.DRAFT, _A.REJECT): Transition(_S.NOT_ACCEPTED, CENTRE),
    (_S.DRAFT, _A.ANSWER_ON_SPOT): Transition(_S.ANSWERED_ON_SPOT, CENTRE),
    (_S.ACCEPTED, _A.DISPATCH): Transition(_S.DISPATCHED, CENTRE),
    (_S.DISPATCHED, _A.SIGN): Transition(_S.SIGNED, DEPARTMENT_ONLY),
    (_S.SIGNED, _A.PASS_DOWN): Transition(_S.DISPATCHED, DEPARTMENT_ONLY),
    (_S.DISPATCHED, _A.RETURN_TICKET): Transition(_S.RETURNED, DEPARTMENT_ONLY),
    (_S.SIGNED, _A.RETURN_TICKET): Transition(_S.RETURNED, DEPARTMENT_ONLY),
    (_S.RETURNED, _A.REDISPATCH): Transition(_S.DISPATCHED, CENTRE),
    (_S.RETURNED, _A.ESCALATE_REVIEW): Transition(_S.RETURN_REVIEW, AGENT_ONLY),
    (_S.RETURN_REVIEW, _A.UPHOLD_RETURN): Transition(_S.ACCEPTED, SUPERVISOR_ONLY),
    (_S.RETURN_REVIEW, _A.REJECT_RETURN): Transition(_S.DISPATCHED, SUPERVISOR_ONLY),
    (_S.SIGNED, _A.REPLY): Transition(_S.REPLIED, DEPARTMENT_ONLY),
    (_S.REHANDLING, _A.REPLY): Transition(_S.REPLIED, DEPARTMENT_ONLY),
    (_S.SUPERVISED, _A.REPLY): Transition(_S.REPLIED, DEPARTMENT_ONLY),
    (_S.REPLIED, _A.VISIT): Transition(_S.VISITED, CENTRE),
    (_S.VISITED, _A.CLOSE): Transition(_S.CLOSED, CENTRE),
    (_S.VISITED, _A.REHANDLE): Transition(_S.REHANDLING, SUPERVISOR_ONLY),
    (_S.VISITED, _A.SUPERVISE): Transition(_S.SUPERVISED, SUPERVISOR_ONLY),
    **{(s, _A.MERGE_INTO): Transition(_S.MERGED, CENTRE) for s in OPEN_STATUSES},
    **{(s, _A.REQUEST_EXTENSION): Transition(s, DEPARTMENT_ONLY) for s in EXTENSION_STATUSES},
    **{(s, _A.APPROVE_EXTENSION): Transition(s, SUPERVISOR_ONLY) for s in EXTENSION_STATUSES},
    **{(s, _A.DENY_EXTENSION): Transition(s, SUPERVISOR_ONLY) for s in EXTENSION_STATUSES},
    # Urgent tickets: the unit records when it reached the caller and the site (30-minute rule).
    **{(s, _A.RECORD_CONTACT): Transition(s, DEPARTMENT_ONLY) for s in (_S.DISPATCHED, _S.SIGNED)},
    **{(s, _A.RECORD_ON_SITE): Transition(s, DEPARTMENT_ONLY) for s in (_S.DISPATCHED, _S.SIGNED)},
    # A caller handed to 110/119/120 during a call about an open ticket.
    **{(s, _A.RECORD_HANDOFF): Transition(s, CENTRE) for s in OPEN_STATUSES},
}


def allowed_actions(status: TicketStatus, role: Role) -> list[Action]:
    return [action for (s, action), t in TRANSITIONS.items() if s == status and role in t.roles]


# --- data -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Reply:
    """A unit's answer to the caller; unfinished matters also say why, how far, and what next."""

    response: str
    handling_unit: str
    handled_at: datetime | None
    method: str
    process: str
    result: str
    finished: bool = True
    reason: str = ""
    progress: str = ""
    next_steps: str = ""


_REPLY_PARTS = ("response", "handling_unit", "handled_at", "method", "process", "result")
_UNFINISHED_PARTS = ("reason", "progress", "next_steps")


def missing_reply_parts(reply: Reply) -> list[str]:
    parts = _REPLY_PARTS if reply.finished else _REPLY_PARTS + _UNFINISHED_PARTS
    return [name for name in parts if _blank(getattr(reply, name))]


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


@dataclass(frozen=True, slots=True)
class DispatchLeg:
    """One unit's share of a ticket; level-3 legs name the level-2 unit above them."""

    unit_code: str
    level: int
    parent_unit_code: str | None
    dispatched_at: datetime
    status: LegStatus = LegStatus.DISPATCHED


@dataclass(frozen=True, slots=True)
class ExtensionRequest:
    days: int
    reason: str
    unit_code: str
    requested_at: datetime


@dataclass(frozen=True, slots=True)
class EmergencyHandoff:
    """A caller handed to 110/119/120 from the call this ticket came from."""

    number: str  # 110, 119 or 120
    by_user: str
    requested_at: datetime
    direct: bool  # blind transfer rather than a three-way call the agent left
    answered_at: datetime | None = None
    failure: str = ""  # BUSY, NOANSWER … when the centre did not answer

    @property
    def answered(self) -> bool:
        return self.answered_at is not None


@dataclass(frozen=True, slots=True)
class Ticket:
    number: str
    request_type: RequestType
    channel: Channel
    content: str
    created_at: datetime
    status: TicketStatus = TicketStatus.DRAFT
    urgent: bool = False
    caller_number: str | None = None
    caller_name: str | None = None
    confidential: bool = False
    district: str | None = None
    street: str | None = None
    address: str | None = None
    call_uniqueid: str | None = None
    recording: str | None = None
    legs: tuple[DispatchLeg, ...] = ()
    replies: tuple[Reply, ...] = ()
    satisfaction: Satisfaction | None = None
    unit_at_fault: bool | None = None
    rehandle_count: int = 0
    extension_days: int = 0
    pending_extension: ExtensionRequest | None = None
    master_number: str | None = None
    not_accepted_reason: NotAcceptedReason | None = None
    spot_answer: str | None = None
    return_reason: str | None = None
    returned_leg: DispatchLeg | None = None  # the leg whose unit returned it; reject_return re-sends to it
    contacted_at: datetime | None = None  # urgent tickets: when the unit reached the caller
    on_site_at: datetime | None = None  # urgent tickets: when the unit was on site
    handoffs: tuple[EmergencyHandoff, ...] = ()  # callers handed to 110/119/120

    @property
    def active_legs(self) -> tuple[DispatchLeg, ...]:
        return tuple(leg for leg in self.legs if leg.status != LegStatus.RETURNED)


@dataclass(frozen=True, slots=True)
class Actor:
    user_id: str
    role: Role
    unit_code: str | None = None


@dataclass(frozen=True, slots=True)
class Command:
    """An action and the data it needs; which fields are required depends on the action."""

    action: Action
    _: KW_ONLY
    not_accepted_reason: NotAcceptedReason | None = None
    answer: str | None = None
    unit_code: str | None = None
    level: int = 2
    parent_unit_code: str | None = None
    reason: str | None = None
    reply: Reply | None = None
    satisfaction: Satisfaction | None = None
    unit_at_fault: bool | None = None
    days: int | None = None
    master_number: str | None = None
    handoff: EmergencyHandoff | None = None
    note: str = ""


@dataclass(frozen=True, slots=True)
class AuditEntry:
    ticket_number: str
    at: datetime
    actor_id: str
    role: Role
    action: Action | str  # or "create" (a new ticket), "deadline_moved" (domain.deadline_moves)
    from_status: TicketStatus | None  # None for "create"
    to_status: TicketStatus
    note: str


# --- errors ---------------------------------------------------------------------------------


class IllegalTransition(Conflict):
    code = "illegal_transition"

    def __init__(self, status: TicketStatus, action: Action, allowed: list[Action]) -> None:
        self.status = status
        self.action = action
        self.allowed_actions = [str(a) for a in allowed]
        listed = ", ".join(self.allowed_actions) or "none"
        super().__init__(f"cannot {action} a ticket in status {status}; allowed for this role: {listed}")

    def fields(self) -> dict[str, Any]:
        return {"allowed_actions": self.allowed_actions}


class Forbidden(Refused):
    code = "action_forbidden"

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


class MissingReplyParts(Invalid):
    code = "reply_incomplete"

    def __init__(self, missing: list[str]) -> None:
        self.missing = missing
        super().__init__(f"reply is missing: {', '.join(missing)}")

    def fields(self) -> dict[str, Any]:
        return {"missing": self.missing}


class InvalidCommand(Invalid):
    code = "invalid_command"


# --- applying commands ----------------------------------------------------------------------

IsSubunit = Callable[[str, str], bool]


@dataclass(frozen=True, slots=True)
class _Step:
    ticket: Ticket
    command: Command
    actor: Actor
    at: datetime
    is_subunit: IsSubunit | None


def apply(
    ticket: Ticket, command: Command, actor: Actor, at: datetime, *, is_subunit: IsSubunit | None = None
) -> tuple[Ticket, AuditEntry]:
    """Applies one command. `is_subunit(parent, child)` is needed only for pass_down.

    An action not defined from the status raises IllegalTransition; one defined but not for the
    actor's role or unit, or barred by a rule (closing while unsatisfied with the unit at fault),
    raises Forbidden; absent data raises InvalidCommand or MissingReplyParts."""
    transition = TRANSITIONS.get((ticket.status, command.action))
    if transition is None:
        raise IllegalTransition(ticket.status, command.action, allowed_actions(ticket.status, actor.role))
    if actor.role not in transition.roles:
        raise Forbidden(f"role {actor.role} may not {command.action} a ticket in status {ticket.status}")
    if actor.role is Role.DEPARTMENT:
        _actor_leg(ticket, actor)
    changed, note = _EFFECTS[command.action](_Step(ticket, command, actor, at, is_subunit))
    new = dataclasses.replace(changed, status=transition.to)
    notes = "; ".join(part for part in (note, command.note) if part)
    return new, AuditEntry(
        ticket.number, at, actor.user_id, actor.role, command.action, ticket.status, new.status, notes
    )


def _actor_leg(ticket: Ticket, actor: Actor) -> int:
    """Index of the active leg the department actor acts through: its own, else a level-3 leg under it."""
    if not actor.unit_code:
        raise Forbidden("a department actor needs a unit")
    indexed = [(i, leg) for i, leg in enumerate(ticket.legs) if leg.status != LegStatus.RETURNED]
    for i, leg in reversed(indexed):
        if leg.unit_code == actor.unit_code:
            return i
    for i, leg in reversed(indexed):
        if leg.level == 3 and leg.parent_unit_code == actor.unit_code:
            return i
    raise Forbidden(f"ticket {ticket.number} is not dispatched to unit {actor.unit_code}")


def _set_leg(ticket: Ticket, index: int, status: LegStatus) -> Ticket:
    legs = list(ticket.legs)
    legs[index] = dataclasses.replace(legs[index], status=status)
    return dataclasses.replace(ticket, legs=tuple(legs))


def _required(value: T | None, what: str) -> T:
    if value is None or _blank(value):
        raise InvalidCommand(f"{what} is required")
    return value


def _new_leg(step: _Step) -> DispatchLeg:
    cmd = step.command
    unit_code = _required(cmd.unit_code, "unit_code")
    if cmd.level not in (2, 3):
        raise InvalidCommand("level must be 2 or 3")
    if (cmd.level == 3) != bool(cmd.parent_unit_code):
        raise InvalidCommand("a level-3 unit needs its parent unit; a level-2 unit has none")
    return DispatchLeg(unit_code, cmd.level, cmd.parent_unit_code, step.at)


Effect = Callable[[_Step], tuple[Ticket, str]]


def _no_change(step: _Step) -> tuple[Ticket, str]:
    return step.ticket, ""


def _reject(step: _Step) -> tuple[Ticket, str]:
    reason = _required(step.command.not_accepted_reason, "not_accepted_reason")
    return dataclasses.replace(step.ticket, not_accepted_reason=reason), str(reason)


def _answer_on_spot(step: _Step) -> tuple[Ticket, str]:
    if step.ticket.request_type is not RequestType.CONSULTATION:
        raise Forbidden("only consultations can be answered on the spot")
    answer = _required(step.command.answer, "answer")
    return dataclasses.replace(step.ticket, spot_answer=answer), ""


def _dispatch(step: _Step) -> tuple[Ticket, str]:
    leg = _new_leg(step)
    return dataclasses.replace(step.ticket, legs=step.ticket.legs + (leg,)), f"to {leg.unit_code}"


def _sign(step: _Step) -> tuple[Ticket, str]:
    index = _actor_leg(step.ticket, step.actor)
    if step.ticket.legs[index].status != LegStatus.DISPATCHED:
        raise Forbidden(f"unit {step.ticket.legs[index].unit_code} has already signed")
    return _set_leg(step.ticket, index, LegStatus.SIGNED), ""


def _pass_down(step: _Step) -> tuple[Ticket, str]:
    ticket, actor = step.ticket, step.actor
    child = _required(step.command.unit_code, "unit_code")
    if step.is_subunit is None:
        raise InvalidCommand("pass_down needs the is_subunit check")
    own = ticket.legs[_actor_leg(ticket, actor)]
    if own.unit_code != actor.unit_code or own.level != 2 or own.status != LegStatus.SIGNED:
        raise Forbidden("only a level-2 unit that has signed the ticket can pass it down")
    if not step.is_subunit(own.unit_code, child):
        raise Forbidden(f"{child} is not a sub-unit of {own.unit_code}")
    leg = DispatchLeg(child, 3, own.unit_code, step.at)
    return dataclasses.replace(ticket, legs=ticket.legs + (leg,)), f"to {child}"


def _return(step: _Step) -> tuple[Ticket, str]:
    """The whole current assignment goes back to the centre, which decides where it goes next."""
    ticket = step.ticket
    reason = _required(step.command.reason, "reason")
    returning = ticket.legs[_actor_leg(ticket, step.actor)]
    legs = tuple(
        dataclasses.replace(leg, status=LegStatus.RETURNED) if leg.status != LegStatus.RETURNED else leg
        for leg in ticket.legs
    )
    changed = dataclasses.replace(ticket, legs=legs, return_reason=reason, returned_leg=returning)
    return changed, f"by {returning.unit_code}: {reason}"


def _reject_return(step: _Step) -> tuple[Ticket, str]:
    previous = step.ticket.returned_leg
    if previous is None:
        raise InvalidCommand("no returned unit to send the ticket back to")
    leg = DispatchLeg(previous.unit_code, previous.level, previous.parent_unit_code, step.at)
    return dataclasses.replace(step.ticket, legs=step.ticket.legs + (leg,)), f"back to {leg.unit_code}"


def _reply(step: _Step) -> tuple[Ticket, str]:
    reply = step.command.reply
    if reply is None:
        raise InvalidCommand("reply is required")
    missing = missing_reply_parts(reply)
    if missing:
        raise MissingReplyParts(missing)
    ticket = _set_leg(step.ticket, _actor_leg(step.ticket, step.actor), LegStatus.REPLIED)
    return dataclasses.replace(ticket, replies=ticket.replies + (reply,)), ""


def _visit(step: _Step) -> tuple[Ticket, str]:
    satisfaction = _required(step.command.satisfaction, "satisfaction")
    at_fault = _required(step.command.unit_at_fault, "unit_at_fault")
    changed = dataclasses.replace(step.ticket, satisfaction=satisfaction, unit_at_fault=at_fault)
    return changed, f"{satisfaction}, unit at fault: {at_fault}"


def _unsatisfied_and_at_fault(ticket: Ticket) -> bool:
    return bool(ticket.satisfaction and ticket.satisfaction.is_unsatisfied and ticket.unit_at_fault)


def _close(step: _Step) -> tuple[Ticket, str]:
    if _unsatisfied_and_at_fault(step.ticket):
        raise Forbidden("the caller is unsatisfied and the unit is at fault: rehandle or supervise instead")
    return step.ticket, ""


def _rehandle(step: _Step) -> tuple[Ticket, str]:
    """First unsatisfied visit with the unit at fault: 重办 once; after that it is supervised."""
    ticket = step.ticket
    if not _unsatisfied_and_at_fault(ticket):
        raise Forbidden("rehandling needs an unsatisfied caller and a unit at fault")
    if ticket.rehandle_count:
        raise Forbidden("already rehandled once: supervise instead")
    return dataclasses.replace(ticket, rehandle_count=ticket.rehandle_count + 1), ""


def _supervise(step: _Step) -> tuple[Ticket, str]:
    if not _unsatisfied_and_at_fault(step.ticket):
        raise Forbidden("supervision needs an unsatisfied caller and a unit at fault")
    if not step.ticket.rehandle_count:
        raise Forbidden("rehandle first: supervision follows an unsatisfied rehandled ticket")
    return step.ticket, ""


def _merge(step: _Step) -> tuple[Ticket, str]:
    master = _required(step.command.master_number, "master_number")
    if master == step.ticket.number:
        raise InvalidCommand("a ticket cannot be merged into itself")
    return dataclasses.replace(step.ticket, master_number=master), f"into {master}"


def _request_extension(step: _Step) -> tuple[Ticket, str]:
    ticket = step.ticket
    reason = _required(step.command.reason, "reason")
    days = _required(step.command.days, "days")
    if days < 1:
        raise InvalidCommand("days must be a positive number of working days")
    if ticket.pending_extension is not None:
        raise InvalidCommand("an extension request is already pending")
    unit_code = _required(step.actor.unit_code, "the actor's unit")
    request = ExtensionRequest(days, reason, unit_code, step.at)
    return dataclasses.replace(ticket, pending_extension=request), f"{days} working days: {reason}"


def _urgent_only(ticket: Ticket) -> None:
    if not ticket.urgent:
        raise InvalidCommand(
            f"ticket {ticket.number} is not urgent: contact and on-site times are tracked for urgent tickets"
        )


def _record_contact(step: _Step) -> tuple[Ticket, str]:
    _urgent_only(step.ticket)
    if step.ticket.contacted_at is not None:
        raise InvalidCommand("the contact with the caller is already recorded")
    return dataclasses.replace(step.ticket, contacted_at=step.at), ""


def _record_on_site(step: _Step) -> tuple[Ticket, str]:
    _urgent_only(step.ticket)
    if step.ticket.on_site_at is not None:
        raise InvalidCommand("the arrival on site is already recorded")
    return dataclasses.replace(step.ticket, on_site_at=step.at, contacted_at=step.ticket.contacted_at or step.at), ""


def _record_handoff(step: _Step) -> tuple[Ticket, str]:
    handoff = _required(step.command.handoff, "handoff")
    ticket = dataclasses.replace(step.ticket, handoffs=step.ticket.handoffs + (handoff,))
    how = "blind transfer" if handoff.direct else "three-way call"
    if handoff.answered:
        return ticket, f"{handoff.number} answered ({how})"
    return (
        ticket,
        f"{handoff.number} did not answer ({handoff.failure or 'no answer'}); the caller stayed with the centre",
    )


def _pending(ticket: Ticket) -> ExtensionRequest:
    if ticket.pending_extension is None:
        raise InvalidCommand("no extension request is pending")
    return ticket.pending_extension


def _approve_extension(step: _Step) -> tuple[Ticket, str]:
    ticket = step.ticket
    days = _pending(ticket).days
    changed = dataclasses.replace(ticket, extension_days=ticket.extension_days + days, pending_extension=None)
    return changed, f"+{days} working days"


def _deny_extension(step: _Step) -> tuple[Ticket, str]:
    _pending(step.ticket)
    return dataclasses.replace(step.ticket, pending_extension=None), ""


_EFFECTS: dict[Action, Effect] = {
    Action.ACCEPT: _no_change,
    Action.REJECT: _reject,
    Action.ANSWER_ON_SPOT: _answer_on_spot,
    Action.DISPATCH: _dispatch,
    Action.SIGN: _sign,
    Action.PASS_DOWN: _pass_down,
    Action.RETURN_TICKET: _return,
    Action.REDISPATCH: _dispatch,
    Action.ESCALATE_REVIEW: _no_change,
    Action.UPHOLD_RETURN: _no_change,
    Action.REJECT_RETURN: _reject_return,
    Action.REPLY: _reply,
    Action.VISIT: _visit,
    Action.CLOSE: _close,
    Action.REHANDLE: _rehandle,
    Action.SUPERVISE: _supervise,
    Action.MERGE_INTO: _merge,
    Action.REQUEST_EXTENSION: _request_extension,
    Action.APPROVE_EXTENSION: _approve_extension,
    Action.DENY_EXTENSION: _deny_extension,
    Action.RECORD_CONTACT: _record_contact,
    Action.RECORD_ON_SITE: _record_on_site,
    Action.RECORD_HANDOFF: _record_handoff,
}


# --- numbers and public view ----------------------------------------------------------------

MAX_SEQUENCE = 99_999


def ticket_number(day: date, sequence: int) -> str:
    """Digits only, to be read over the phone: YYYYMMDD + the day's 5-digit sequence."""
    if not 1 <= sequence <= MAX_SEQUENCE:
        raise ValueError(f"sequence must be 1..{MAX_SEQUENCE}, got {sequence}")
    return f"{day:%Y%m%d}{sequence:05d}"


def public_progress(ticket: Ticket) -> dict[str, Any]:
    """What anyone holding the number and the caller's phone number may see (全程可查): the status
    only. Both numbers can be guessed, so the replies (what the units found and did) will need a
    second factor, such as a code sent to the phone."""
    return {"number": ticket.number, "status": ticket.status.zh}
