from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pytest

from domain.tickets import (
    SHANGHAI,
    TRANSITIONS,
    Action,
    Actor,
    Channel,
    Command,
    DispatchLeg,
    EmergencyHandoff,
    Forbidden,
    IllegalTransition,
    InvalidCommand,
    LegStatus,
    MissingReplyParts,
    NotAcceptedReason,
    Reply,
    RequestType,
    Role,
    Satisfaction,
    Ticket,
    TicketStatus,
    allowed_actions,
    apply,
    missing_reply_parts,
    public_progress,
    ticket_number,
)

S, A = TicketStatus, Action
AT = datetime(2024, 10, 8, 9, 30, tzinfo=SHANGHAI)
AGENT = Actor("agent-1", Role.AGENT)
SUPERVISOR = Actor("sup-1", Role.SUPERVISOR)
ADMIN = Actor("admin-1", Role.ADMIN)
WATER = Actor("water-1", Role.DEPARTMENT, "WATER")  # level-2 unit
STREET = Actor("street-1", Role.DEPARTMENT, "WATER-EAST")  # its level-3 sub-unit
OTHER_UNIT = Actor("other-1", Role.DEPARTMENT, "ROADS")
NO_UNIT = Actor("dept-x", Role.DEPARTMENT)


def subunits(parent: str, child: str) -> bool:
    return (parent, child) == ("WATER", "WATER-EAST")


def make_ticket(**changes: Any) -> Ticket:
    fields: dict[str, Any] = dict(
        number="2024100800001",
        request_type=RequestType.COMPLAINT,
        channel=Channel.PHONE,
        content="小区停水三天",
        created_at=AT,
        caller_number="13800138000",
        caller_name="张三",
        district="鼓楼区",
        street="东街街道",
        address="东街1号",
    )
    return Ticket(**(fields | changes))


def make_reply(**changes: Any) -> Reply:
    fields: dict[str, Any] = dict(
        response="已恢复供水",
        handling_unit="WATER",
        handled_at=AT + timedelta(days=1),
        method="电话联系并现场处理",
        process="检修管道",
        result="已解决",
    )
    return Reply(**(fields | changes))


def run(ticket: Ticket, *steps: tuple[Command, Actor]) -> Ticket:
    for command, actor in steps:
        ticket, _ = apply(ticket, command, actor, AT, is_subunit=subunits)
    return ticket


ACCEPT = (Command(A.ACCEPT), AGENT)
DISPATCH = (Command(A.DISPATCH, unit_code="WATER"), AGENT)
SIGN = (Command(A.SIGN), WATER)
RETURN = (Command(A.RETURN_TICKET, reason="不属于本单位职责"), WATER)
ESCALATE = (Command(A.ESCALATE_REVIEW), AGENT)
REPLY = (Command(A.REPLY, reply=make_reply()), WATER)
REHANDLE = (Command(A.REHANDLE), SUPERVISOR)
SUPERVISE = (Command(A.SUPERVISE), SUPERVISOR)


def visit(satisfaction: Satisfaction, at_fault: bool) -> tuple[Command, Actor]:
    return Command(A.VISIT, satisfaction=satisfaction, unit_at_fault=at_fault), AGENT


UNHAPPY = visit(Satisfaction.UNSATISFIED, True)
HAPPY = visit(Satisfaction.SATISFIED, False)

PATHS: dict[TicketStatus, tuple[tuple[Command, Actor], ...]] = {
    S.DRAFT: (),
    S.ACCEPTED: (ACCEPT,),
    S.DISPATCHED: (ACCEPT, DISPATCH),
    S.SIGNED: (ACCEPT, DISPATCH, SIGN),
    S.RETURNED: (ACCEPT, DISPATCH, RETURN),
    S.RETURN_REVIEW: (ACCEPT, DISPATCH, RETURN, ESCALATE),
    S.REPLIED: (ACCEPT, DISPATCH, SIGN, REPLY),
    S.VISITED: (ACCEPT, DISPATCH, SIGN, REPLY, UNHAPPY),
    S.REHANDLING: (ACCEPT, DISPATCH, SIGN, REPLY, UNHAPPY, REHANDLE),
    S.SUPERVISED: (ACCEPT, DISPATCH, SIGN, REPLY, UNHAPPY, REHANDLE, REPLY, UNHAPPY, SUPERVISE),
    S.CLOSED: (ACCEPT, DISPATCH, SIGN, REPLY, HAPPY, (Command(A.CLOSE), AGENT)),
    S.NOT_ACCEPTED: ((Command(A.REJECT, not_accepted_reason=NotAcceptedReason.REPEATED), AGENT),),
    S.MERGED: ((Command(A.MERGE_INTO, master_number="2024100700009"), AGENT),),
}


def at_status(status: TicketStatus, **changes) -> Ticket:
    ticket = run(make_ticket(**changes), *PATHS[status])
    assert ticket.status is status
    return ticket


def test_paths_reach_every_status_but_answered_on_spot() -> None:
    assert set(PATHS) == set(TicketStatus) - {S.ANSWERED_ON_SPOT}


# --- every allowed transition ---------------------------------------------------------------

# A valid command and actor per action, for the happy path.
VALID: dict[Action, tuple[Command, Actor]] = {
    A.ACCEPT: ACCEPT,
    A.REJECT: (Command(A.REJECT, not_accepted_reason=NotAcceptedReason.OUT_OF_JURISDICTION), SUPERVISOR),
    A.ANSWER_ON_SPOT: (Command(A.ANSWER_ON_SPOT, answer="社保卡补办请到各区社保窗口"), AGENT),
    A.DISPATCH: DISPATCH,
    A.SIGN: SIGN,
    A.PASS_DOWN: (Command(A.PASS_DOWN, unit_code="WATER-EAST"), WATER),
    A.RETURN_TICKET: RETURN,
    A.REDISPATCH: (Command(A.REDISPATCH, unit_code="ROADS"), SUPERVISOR),
    A.ESCALATE_REVIEW: ESCALATE,
    A.UPHOLD_RETURN: (Command(A.UPHOLD_RETURN), SUPERVISOR),
    A.REJECT_RETURN: (Command(A.REJECT_RETURN), SUPERVISOR),
    A.REPLY: REPLY,
    A.VISIT: HAPPY,
    A.CLOSE: (Command(A.CLOSE), SUPERVISOR),
    A.REHANDLE: REHANDLE,
    A.SUPERVISE: SUPERVISE,
    A.MERGE_INTO: (Command(A.MERGE_INTO, master_number="2024100700009"), AGENT),
    A.REQUEST_EXTENSION: (Command(A.REQUEST_EXTENSION, reason="需协调多部门", days=5), WATER),
    A.APPROVE_EXTENSION: (Command(A.APPROVE_EXTENSION), SUPERVISOR),
    A.DENY_EXTENSION: (Command(A.DENY_EXTENSION), SUPERVISOR),
    A.RECORD_CONTACT: (Command(A.RECORD_CONTACT), WATER),
    A.RECORD_ON_SITE: (Command(A.RECORD_ON_SITE), WATER),
    A.RECORD_HANDOFF: (Command(A.RECORD_HANDOFF, handoff=EmergencyHandoff("110", "agent-1", AT, direct=False)), AGENT),
}

REQUEST_EXTENSION = VALID[A.REQUEST_EXTENSION]


def ready_for(status: TicketStatus, action: Action) -> Ticket:
    """A ticket in `status` whose other state lets `action` pass its rules."""
    if action is A.ANSWER_ON_SPOT:
        return at_status(status, request_type=RequestType.CONSULTATION)
    if (status, action) == (S.VISITED, A.CLOSE):
        return run(at_status(S.REPLIED), HAPPY)
    if (status, action) == (S.VISITED, A.SUPERVISE):
        return run(at_status(S.REHANDLING), REPLY, UNHAPPY)
    if action in (A.APPROVE_EXTENSION, A.DENY_EXTENSION):
        return run(at_status(status), REQUEST_EXTENSION)
    if action in (A.RECORD_CONTACT, A.RECORD_ON_SITE):
        return at_status(status, urgent=True)
    return at_status(status)


@pytest.mark.parametrize(("status", "action"), list(TRANSITIONS), ids=lambda v: str(v))
def test_every_allowed_transition(status: TicketStatus, action: Action) -> None:
    ticket = ready_for(status, action)
    command, actor = VALID[action]
    new, entry = apply(ticket, command, actor, AT, is_subunit=subunits)
    assert new.status is TRANSITIONS[status, action].to
    assert ticket.status is status  # the input is left as it was
    assert entry.ticket_number == ticket.number and entry.at == AT
    assert (entry.actor_id, entry.role) == (actor.user_id, actor.role)
    assert (entry.action, entry.from_status, entry.to_status) == (action, status, new.status)


def test_transition_roles_match_the_flow() -> None:
    centre, department = {Role.AGENT, Role.SUPERVISOR}, {Role.DEPARTMENT}
    expected = {
        A.ACCEPT: centre, A.REJECT: centre, A.ANSWER_ON_SPOT: centre, A.DISPATCH: centre,
        A.SIGN: department, A.PASS_DOWN: department, A.RETURN_TICKET: department,
        A.REDISPATCH: centre, A.ESCALATE_REVIEW: {Role.AGENT},
        A.UPHOLD_RETURN: {Role.SUPERVISOR}, A.REJECT_RETURN: {Role.SUPERVISOR},
        A.REPLY: department, A.VISIT: centre, A.CLOSE: centre,
        A.REHANDLE: {Role.SUPERVISOR}, A.SUPERVISE: {Role.SUPERVISOR}, A.MERGE_INTO: centre,
        A.REQUEST_EXTENSION: department, A.APPROVE_EXTENSION: {Role.SUPERVISOR},
        A.DENY_EXTENSION: {Role.SUPERVISOR}, A.RECORD_CONTACT: department, A.RECORD_ON_SITE: department,
        A.RECORD_HANDOFF: centre,
    }  # fmt: skip
    for (_, action), transition in TRANSITIONS.items():
        assert transition.roles == expected[action], action


def test_terminal_statuses_allow_nothing() -> None:
    for status in (S.NOT_ACCEPTED, S.ANSWERED_ON_SPOT, S.CLOSED, S.MERGED):
        for role in Role:
            assert allowed_actions(status, role) == []


# --- illegal transitions and roles ----------------------------------------------------------


def test_illegal_transition_lists_the_actions_allowed_for_the_role() -> None:
    with pytest.raises(IllegalTransition) as caught:
        apply(make_ticket(), Command(A.CLOSE), AGENT, AT)
    error = caught.value
    assert (error.status, error.action) == (S.DRAFT, A.CLOSE)
    assert error.allowed_actions == ["accept", "reject", "answer_on_spot", "merge_into", "record_handoff"]
    assert "accept, reject, answer_on_spot, merge_into, record_handoff" in str(error)


def test_illegal_transition_for_department_lists_its_own_actions() -> None:
    with pytest.raises(IllegalTransition) as caught:
        apply(at_status(S.DISPATCHED), Command(A.REPLY, reply=make_reply()), WATER, AT)
    assert caught.value.allowed_actions == [
        "sign",
        "return_ticket",
        "request_extension",
        "record_contact",
        "record_on_site",
    ]


@pytest.mark.parametrize(
    ("status", "command", "actor"),
    [
        (S.ACCEPTED, Command(A.SIGN), WATER),
        (S.SIGNED, Command(A.SIGN), WATER),
        (S.REPLIED, Command(A.CLOSE), AGENT),
        (S.RETURNED, Command(A.REPLY, reply=make_reply()), WATER),
        (S.CLOSED, Command(A.REHANDLE), SUPERVISOR),
        (S.MERGED, Command(A.ACCEPT), AGENT),
        (S.REPLIED, Command(A.REQUEST_EXTENSION, reason="x", days=1), WATER),
    ],
)
def test_illegal_transitions(status: TicketStatus, command: Command, actor: Actor) -> None:
    ticket = at_status(status)
    with pytest.raises(IllegalTransition) as caught:
        apply(ticket, command, actor, AT)
    assert caught.value.allowed_actions == [str(a) for a in allowed_actions(status, actor.role)]


def test_admin_has_no_ticket_actions() -> None:
    with pytest.raises(IllegalTransition) as caught:
        apply(make_ticket(), Command(A.CLOSE), ADMIN, AT)
    assert caught.value.allowed_actions == []
    assert "none" in str(caught.value)


@pytest.mark.parametrize(
    ("status", "command", "actor"),
    [
        (S.DRAFT, Command(A.ACCEPT), WATER),
        (S.DRAFT, Command(A.ACCEPT), ADMIN),
        (S.DISPATCHED, Command(A.SIGN), AGENT),
        (S.RETURNED, Command(A.ESCALATE_REVIEW), SUPERVISOR),
        (S.RETURN_REVIEW, Command(A.UPHOLD_RETURN), AGENT),
        (S.RETURN_REVIEW, Command(A.REJECT_RETURN), AGENT),
        (S.VISITED, Command(A.REHANDLE), AGENT),
        (S.SIGNED, Command(A.APPROVE_EXTENSION), WATER),
        (S.SIGNED, Command(A.MERGE_INTO, master_number="1"), WATER),
    ],
)
def test_wrong_role_is_forbidden(status: TicketStatus, command: Command, actor: Actor) -> None:
    with pytest.raises(Forbidden, match=f"role {actor.role} may not {command.action}"):
        apply(at_status(status), command, actor, AT)


# --- department units -----------------------------------------------------------------------


def test_department_may_only_act_on_its_own_tickets() -> None:
    with pytest.raises(Forbidden, match="not dispatched to unit ROADS"):
        apply(at_status(S.DISPATCHED), Command(A.SIGN), OTHER_UNIT, AT)


def test_department_actor_needs_a_unit() -> None:
    with pytest.raises(Forbidden, match="needs a unit"):
        apply(at_status(S.DISPATCHED), Command(A.SIGN), NO_UNIT, AT)


def test_returned_unit_no_longer_acts_on_the_ticket() -> None:
    ticket = run(at_status(S.RETURNED), (Command(A.REDISPATCH, unit_code="ROADS"), AGENT))
    with pytest.raises(Forbidden, match="not dispatched to unit WATER"):
        apply(ticket, Command(A.SIGN), WATER, AT)
    signed = run(ticket, (Command(A.SIGN), OTHER_UNIT))
    legs = [(leg.unit_code, leg.status) for leg in signed.legs]
    assert legs == [("WATER", "returned"), ("ROADS", "signed")]


def test_level_2_unit_acts_through_a_level_3_leg_dispatched_under_it() -> None:
    command = Command(A.DISPATCH, unit_code="WATER-EAST", level=3, parent_unit_code="WATER")
    ticket = run(at_status(S.ACCEPTED), (command, AGENT), SIGN)
    assert ticket.legs[0].status == LegStatus.SIGNED
    assert ticket.legs[0].level == 3


def test_sign_marks_the_leg() -> None:
    ticket = at_status(S.SIGNED)
    assert ticket.legs == (DispatchLeg("WATER", 2, None, AT, LegStatus.SIGNED),)


@pytest.mark.parametrize(
    ("command", "message"),
    [
        (Command(A.DISPATCH), "unit_code is required"),
        (Command(A.DISPATCH, unit_code=" "), "unit_code is required"),
        (Command(A.DISPATCH, unit_code="X", level=4), "level must be 2 or 3"),
        (Command(A.DISPATCH, unit_code="X", level=3), "needs its parent unit"),
        (Command(A.DISPATCH, unit_code="X", parent_unit_code="P"), "needs its parent unit"),
    ],
)
def test_dispatch_needs_a_unit_and_a_consistent_level(command: Command, message: str) -> None:
    with pytest.raises(InvalidCommand, match=message):
        apply(at_status(S.ACCEPTED), command, AGENT, AT)


# --- multi-level pass-down ------------------------------------------------------------------

PASS_DOWN = (Command(A.PASS_DOWN, unit_code="WATER-EAST"), WATER)


def test_pass_down_adds_a_level_3_leg_which_signs_and_replies() -> None:
    passed = run(at_status(S.SIGNED), PASS_DOWN)
    assert passed.status is S.DISPATCHED
    assert passed.legs[1] == DispatchLeg("WATER-EAST", 3, "WATER", AT, LegStatus.DISPATCHED)
    replied = run(passed, (Command(A.SIGN), STREET), (Command(A.REPLY, reply=make_reply()), STREET))
    assert replied.status is S.REPLIED
    assert [leg.status for leg in replied.legs] == [LegStatus.SIGNED, LegStatus.REPLIED]


def test_level_2_cannot_sign_again_after_passing_down() -> None:
    passed = run(at_status(S.SIGNED), PASS_DOWN)
    with pytest.raises(Forbidden, match="already signed"):
        apply(passed, Command(A.SIGN), WATER, AT)


def test_pass_down_only_to_a_sub_unit() -> None:
    with pytest.raises(Forbidden, match="ROADS is not a sub-unit of WATER"):
        apply(at_status(S.SIGNED), Command(A.PASS_DOWN, unit_code="ROADS"), WATER, AT, is_subunit=subunits)


def test_pass_down_needs_the_sub_unit_check_and_a_unit() -> None:
    with pytest.raises(InvalidCommand, match="is_subunit"):
        apply(at_status(S.SIGNED), PASS_DOWN[0], WATER, AT)
    with pytest.raises(InvalidCommand, match="unit_code is required"):
        apply(at_status(S.SIGNED), Command(A.PASS_DOWN), WATER, AT, is_subunit=subunits)


def test_level_3_unit_cannot_pass_down() -> None:
    command = Command(A.DISPATCH, unit_code="WATER-EAST", level=3, parent_unit_code="WATER")
    ticket = run(at_status(S.ACCEPTED), (command, AGENT), (Command(A.SIGN), STREET))
    with pytest.raises(Forbidden, match="only a level-2 unit"):
        apply(ticket, Command(A.PASS_DOWN, unit_code="X"), STREET, AT, is_subunit=lambda p, c: True)


def test_level_3_return_sends_the_whole_assignment_back_and_reject_return_resends_to_it() -> None:
    passed = run(at_status(S.SIGNED), PASS_DOWN, (Command(A.SIGN), STREET))
    returned = run(passed, (Command(A.RETURN_TICKET, reason="不在辖区"), STREET))
    assert returned.status is S.RETURNED
    assert all(leg.status == LegStatus.RETURNED for leg in returned.legs)
    assert returned.returned_leg is not None and returned.returned_leg.unit_code == "WATER-EAST"
    resent = run(returned, ESCALATE, (Command(A.REJECT_RETURN), SUPERVISOR))
    assert resent.status is S.DISPATCHED
    assert resent.legs[-1] == DispatchLeg("WATER-EAST", 3, "WATER", AT, LegStatus.DISPATCHED)


# --- return and review ----------------------------------------------------------------------


def test_return_needs_a_reason_and_records_it() -> None:
    with pytest.raises(InvalidCommand, match="reason is required"):
        apply(at_status(S.SIGNED), Command(A.RETURN_TICKET), WATER, AT)
    ticket, entry = apply(at_status(S.SIGNED), *RETURN, AT)
    assert ticket.return_reason == "不属于本单位职责"
    assert entry.note == "by WATER: 不属于本单位职责"


def test_uphold_return_goes_back_to_accepted_for_another_dispatch() -> None:
    ticket = run(at_status(S.RETURN_REVIEW), (Command(A.UPHOLD_RETURN), SUPERVISOR))
    assert ticket.status is S.ACCEPTED
    assert ticket.active_legs == ()
    redone = run(ticket, (Command(A.DISPATCH, unit_code="ROADS"), AGENT))
    assert [leg.unit_code for leg in redone.active_legs] == ["ROADS"]


def test_reject_return_sends_it_back_to_the_same_unit() -> None:
    ticket = run(at_status(S.RETURN_REVIEW), (Command(A.REJECT_RETURN), SUPERVISOR))
    assert ticket.status is S.DISPATCHED
    legs = [(leg.unit_code, leg.status) for leg in ticket.legs]
    assert legs == [("WATER", "returned"), ("WATER", "dispatched")]
    assert run(ticket, SIGN).status is S.SIGNED


# --- intake ---------------------------------------------------------------------------------


def test_reject_needs_a_reason_from_the_list() -> None:
    with pytest.raises(InvalidCommand, match="not_accepted_reason is required"):
        apply(make_ticket(), Command(A.REJECT), AGENT, AT)
    ticket = at_status(S.NOT_ACCEPTED)
    assert ticket.not_accepted_reason is NotAcceptedReason.REPEATED


def test_only_consultations_are_answered_on_the_spot() -> None:
    with pytest.raises(Forbidden, match="only consultations"):
        apply(make_ticket(), Command(A.ANSWER_ON_SPOT, answer="..."), AGENT, AT)


def test_answer_on_spot_needs_the_answer_and_keeps_it() -> None:
    ticket = make_ticket(request_type=RequestType.CONSULTATION)
    with pytest.raises(InvalidCommand, match="answer is required"):
        apply(ticket, Command(A.ANSWER_ON_SPOT, answer=""), AGENT, AT)
    answered = run(ticket, VALID[A.ANSWER_ON_SPOT])
    assert answered.spot_answer == "社保卡补办请到各区社保窗口"


# --- replies --------------------------------------------------------------------------------


def test_complete_reply_has_nothing_missing() -> None:
    assert missing_reply_parts(make_reply()) == []


def test_missing_reply_parts_names_empty_parts() -> None:
    reply = make_reply(response=" ", handled_at=None, result="")
    assert missing_reply_parts(reply) == ["response", "handled_at", "result"]


def test_unfinished_reply_needs_reason_progress_and_next_steps() -> None:
    reply = make_reply(finished=False, progress="已立项")
    assert missing_reply_parts(reply) == ["reason", "next_steps"]
    assert missing_reply_parts(make_reply(finished=False, reason="r", progress="p", next_steps="n")) == []


def test_reply_is_validated_and_stored() -> None:
    with pytest.raises(MissingReplyParts) as caught:
        apply(at_status(S.SIGNED), Command(A.REPLY, reply=make_reply(method="")), WATER, AT)
    assert caught.value.missing == ["method"]
    with pytest.raises(InvalidCommand, match="reply is required"):
        apply(at_status(S.SIGNED), Command(A.REPLY), WATER, AT)
    ticket = at_status(S.REPLIED)
    assert ticket.replies == (make_reply(),)
    assert ticket.legs[0].status == LegStatus.REPLIED


def test_other_unit_cannot_reply() -> None:
    with pytest.raises(Forbidden):
        apply(at_status(S.SIGNED), Command(A.REPLY, reply=make_reply()), OTHER_UNIT, AT)


# --- visit, close, rehandle, supervise ------------------------------------------------------


def test_visit_needs_satisfaction_and_fault() -> None:
    replied = at_status(S.REPLIED)
    with pytest.raises(InvalidCommand, match="satisfaction is required"):
        apply(replied, Command(A.VISIT, unit_at_fault=False), AGENT, AT)
    with pytest.raises(InvalidCommand, match="unit_at_fault is required"):
        apply(replied, Command(A.VISIT, satisfaction=Satisfaction.SATISFIED), AGENT, AT)
    visited = run(replied, visit(Satisfaction.BASICALLY_SATISFIED, False))
    assert (visited.satisfaction, visited.unit_at_fault) == (Satisfaction.BASICALLY_SATISFIED, False)


@pytest.mark.parametrize(
    ("satisfaction", "at_fault"),
    [
        (Satisfaction.VERY_SATISFIED, True),
        (Satisfaction.BASICALLY_SATISFIED, True),
        (Satisfaction.UNSATISFIED, False),
        (Satisfaction.VERY_UNSATISFIED, False),
    ],
)
def test_close_when_satisfied_or_unit_not_at_fault(satisfaction: Satisfaction, at_fault: bool) -> None:
    ticket = run(at_status(S.REPLIED), visit(satisfaction, at_fault), (Command(A.CLOSE), AGENT))
    assert ticket.status is S.CLOSED


@pytest.mark.parametrize("satisfaction", [Satisfaction.UNSATISFIED, Satisfaction.VERY_UNSATISFIED])
def test_cannot_close_when_unsatisfied_and_unit_at_fault(satisfaction: Satisfaction) -> None:
    ticket = run(at_status(S.REPLIED), visit(satisfaction, True))
    with pytest.raises(Forbidden, match="rehandle or supervise"):
        apply(ticket, Command(A.CLOSE), SUPERVISOR, AT)


def test_rehandle_needs_unsatisfied_and_at_fault() -> None:
    for step in (HAPPY, visit(Satisfaction.VERY_UNSATISFIED, False)):
        ticket = run(at_status(S.REPLIED), step)
        with pytest.raises(Forbidden, match="rehandling needs"):
            apply(ticket, *REHANDLE, AT)


def test_rehandle_then_supervise_then_reply_again() -> None:
    rehandled = at_status(S.REHANDLING)
    assert rehandled.rehandle_count == 1
    second = run(rehandled, REPLY, UNHAPPY)
    with pytest.raises(Forbidden, match="already rehandled once"):
        apply(second, *REHANDLE, AT)
    supervised = run(second, SUPERVISE)
    assert supervised.status is S.SUPERVISED
    third = run(supervised, REPLY, HAPPY, (Command(A.CLOSE), AGENT))
    assert third.status is S.CLOSED
    assert len(third.replies) == 3


def test_supervise_only_after_a_rehandle() -> None:
    with pytest.raises(Forbidden, match="rehandle first"):
        apply(at_status(S.VISITED), *SUPERVISE, AT)


def test_supervise_needs_unsatisfied_and_at_fault() -> None:
    ticket = run(at_status(S.REHANDLING), REPLY, HAPPY)
    with pytest.raises(Forbidden, match="supervision needs"):
        apply(ticket, *SUPERVISE, AT)


# --- merge ----------------------------------------------------------------------------------


def test_merge_records_the_master() -> None:
    ticket, entry = apply(at_status(S.SIGNED), *VALID[A.MERGE_INTO], AT)
    assert (ticket.status, ticket.master_number) == (S.MERGED, "2024100700009")
    assert entry.note == "into 2024100700009"


def test_merge_needs_another_ticket() -> None:
    with pytest.raises(InvalidCommand, match="master_number is required"):
        apply(make_ticket(), Command(A.MERGE_INTO), AGENT, AT)
    with pytest.raises(InvalidCommand, match="into itself"):
        apply(make_ticket(), Command(A.MERGE_INTO, master_number="2024100800001"), AGENT, AT)


# --- extensions -----------------------------------------------------------------------------


def test_extension_request_approved_adds_days_and_keeps_status() -> None:
    requested, entry = apply(at_status(S.SIGNED), *REQUEST_EXTENSION, AT)
    assert requested.status is S.SIGNED
    assert requested.pending_extension is not None
    assert (requested.pending_extension.days, requested.pending_extension.unit_code) == (5, "WATER")
    assert entry.note == "5 working days: 需协调多部门"
    approved = run(requested, (Command(A.APPROVE_EXTENSION), SUPERVISOR))
    assert (approved.status, approved.extension_days, approved.pending_extension) == (S.SIGNED, 5, None)


def test_extension_denied_leaves_days() -> None:
    denied = run(at_status(S.DISPATCHED), REQUEST_EXTENSION, (Command(A.DENY_EXTENSION), SUPERVISOR))
    assert (denied.status, denied.extension_days, denied.pending_extension) == (S.DISPATCHED, 0, None)


def test_extensions_add_up() -> None:
    approve = (Command(A.APPROVE_EXTENSION), SUPERVISOR)
    ticket = run(at_status(S.REHANDLING), REQUEST_EXTENSION, approve, REQUEST_EXTENSION, approve)
    assert ticket.extension_days == 10


@pytest.mark.parametrize(
    ("command", "message"),
    [
        (Command(A.REQUEST_EXTENSION, days=3), "reason is required"),
        (Command(A.REQUEST_EXTENSION, reason="r"), "days is required"),
        (Command(A.REQUEST_EXTENSION, reason="r", days=0), "positive"),
    ],
)
def test_extension_request_needs_reason_and_days(command: Command, message: str) -> None:
    with pytest.raises(InvalidCommand, match=message):
        apply(at_status(S.SIGNED), command, WATER, AT)


def test_one_pending_extension_at_a_time() -> None:
    ticket = run(at_status(S.SIGNED), REQUEST_EXTENSION)
    with pytest.raises(InvalidCommand, match="already pending"):
        apply(ticket, *REQUEST_EXTENSION, AT)


@pytest.mark.parametrize("action", [A.APPROVE_EXTENSION, A.DENY_EXTENSION])
def test_decision_needs_a_pending_request(action: Action) -> None:
    with pytest.raises(InvalidCommand, match="no extension request is pending"):
        apply(at_status(S.SIGNED), Command(action), SUPERVISOR, AT)


def test_other_unit_cannot_request_extension() -> None:
    with pytest.raises(Forbidden):
        apply(at_status(S.SIGNED), REQUEST_EXTENSION[0], OTHER_UNIT, AT)


# --- audit, numbers, labels, public view ----------------------------------------------------


def test_audit_entry_carries_notes() -> None:
    ticket, entry = apply(make_ticket(), Command(A.ACCEPT, note="来电人情绪激动"), AGENT, AT)
    assert entry.note == "来电人情绪激动"
    replied = run(ticket, DISPATCH, SIGN, REPLY)
    command = Command(A.VISIT, satisfaction=Satisfaction.SATISFIED, unit_at_fault=False, note="n")
    _, entry = apply(replied, command, AGENT, AT)
    assert entry.note == "satisfied, unit at fault: False; n"


def test_ticket_number_is_digits_for_the_phone() -> None:
    assert ticket_number(date(2024, 10, 8), 1) == "2024100800001"
    assert ticket_number(date(2025, 1, 31), 99_999) == "2025013199999"


@pytest.mark.parametrize("sequence", [0, -1, 100_000])
def test_ticket_number_sequence_bounds(sequence: int) -> None:
    with pytest.raises(ValueError, match="sequence"):
        ticket_number(date(2024, 10, 8), sequence)


def test_enums_have_english_values_and_chinese_labels() -> None:
    assert RequestType("complaint").zh == "投诉"
    assert [s.zh for s in Satisfaction] == ["非常满意", "满意", "基本满意", "不满意", "非常不满意"]
    assert NotAcceptedReason.REPEATED.zh == "重复件"
    assert TicketStatus.SUPERVISED.zh == "督办"
    assert Channel.WECHAT.zh == "微信"
    assert Role.DEPARTMENT == "department"
    assert all(label.zh for enum in (Action, TicketStatus, Role) for label in enum)


def test_public_progress_shows_only_the_status() -> None:
    ticket = at_status(S.REPLIED, created_at=datetime(2024, 10, 7, 16, 0, tzinfo=SHANGHAI))
    progress = public_progress(ticket)
    assert progress == {"number": "2024100800001", "status": "已答复"}
    text = repr(progress)
    for secret in ("13800138000", "张三", "东街1号", "小区停水三天", "已恢复供水", "WATER"):
        assert secret not in text


def test_urgent_ticket_contact_and_on_site_times_are_recorded_once() -> None:
    ticket = at_status(S.DISPATCHED, urgent=True)
    contacted, entry = apply(ticket, Command(A.RECORD_CONTACT), WATER, AT)
    assert contacted.contacted_at == AT and contacted.status is S.DISPATCHED and entry.action is A.RECORD_CONTACT
    with pytest.raises(InvalidCommand, match="already recorded"):
        apply(contacted, Command(A.RECORD_CONTACT), WATER, AT)
    on_site, _ = apply(contacted, Command(A.RECORD_ON_SITE), WATER, AT)
    assert on_site.on_site_at == AT and on_site.contacted_at == AT


def test_contact_times_are_for_urgent_tickets_only() -> None:
    with pytest.raises(InvalidCommand, match="not urgent"):
        apply(at_status(S.DISPATCHED), Command(A.RECORD_ON_SITE), WATER, AT)
