from __future__ import annotations

from datetime import datetime

import pytest

from domain.privacy import CallerView, caller_view, mask_number
from domain.tickets import SHANGHAI, Channel, RequestType, Role, Ticket


@pytest.mark.parametrize(
    ("number", "masked"),
    [
        ("13800138000", "138****8000"),
        (" 13800138000 ", "138****8000"),
        ("075512345678", "075*****5678"),  # landline with area code
        ("87654321", "******21"),  # short: keep the last 2
        ("12345", "***45"),
        ("", ""),
    ],
)
def test_mask_number(number: str, masked: str) -> None:
    assert mask_number(number) == masked


def ticket(confidential: bool) -> Ticket:
    return Ticket(
        number="2024100800001",
        request_type=RequestType.REPORT,
        channel=Channel.PHONE,
        content="举报夜间施工",
        created_at=datetime(2024, 10, 8, 9, 0, tzinfo=SHANGHAI),
        caller_number="13800138000",
        caller_name="李四",
        confidential=confidential,
    )


def test_department_sees_no_identity_of_a_confidential_caller() -> None:
    assert caller_view(ticket(True), Role.DEPARTMENT) == CallerView("保密", None, True)


def test_department_sees_a_caller_who_did_not_ask_for_confidentiality() -> None:
    assert caller_view(ticket(False), Role.DEPARTMENT) == CallerView("李四", "13800138000", False)


@pytest.mark.parametrize("role", [Role.AGENT, Role.SUPERVISOR])
def test_agents_and_supervisors_see_everything(role: Role) -> None:
    assert caller_view(ticket(True), role) == CallerView("李四", "13800138000", True)


@pytest.mark.parametrize(("confidential", "name"), [(False, "李四"), (True, "保密")])
def test_admins_see_numbers_masked_and_no_confidential_name(confidential: bool, name: str) -> None:
    assert caller_view(ticket(confidential), Role.ADMIN) == CallerView(name, "138****8000", confidential)
