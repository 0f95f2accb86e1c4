"""What each role may see of a caller: departments do not learn who a confidential caller is, and
admins see no caller's full number."""

from __future__ import annotations

from dataclasses import dataclass

from domain.tickets import Role, Ticket

CONFIDENTIAL_NAME = "保密"


def mask_number(number: str) -> str:
    """ "13800138000" -> "138****8000"; numbers shorter than 11 digits keep only their last 2."""
    number = number.strip()
    if len(number) >= 11:
        return number[:3] + "*" * (len(number) - 7) + number[-4:]
    return "*" * max(len(number) - 2, 0) + number[-2:]


def number_seen_by(number: str, role: Role) -> str:
    """A caller's number as `role` sees it: masked for admins, whole for the others."""
    return mask_number(number) if role is Role.ADMIN else number


@dataclass(frozen=True, slots=True)
class CallerView:
    name: str | None
    number: str | None
    confidential: bool


def caller_view(ticket: Ticket, role: Role) -> CallerView:
    """Departments see "保密" and no number for confidential callers (the centre relays any
    contact). Admins configure the system and call no one back: they see numbers masked
    ("138****8000") and confidential callers as "保密". Agents and supervisors see everything."""
    if role is Role.DEPARTMENT and ticket.confidential:
        return CallerView(CONFIDENTIAL_NAME, None, True)
    if role is Role.ADMIN:
        name = CONFIDENTIAL_NAME if ticket.confidential else ticket.caller_name
        number = number_seen_by(ticket.caller_number, role) if ticket.caller_number else None
        return CallerView(name, number, ticket.confidential)
    return CallerView(ticket.caller_name, ticket.caller_number, ticket.confidential)
