"""Agent state and call control: log in at a softphone with skills, pause with a reason, and
control the call on the agent's phone (hold, transfers, three-way calls, 110 handoff)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from agent_api.context import ApiContext, context, require
from agent_api.errors import responses
from domain.errors import Unavailable
from storage.users import User
from telephony.agent_state import PAUSE_REASONS
from telephony.cti import Cti
from telephony.cti_config import Target

router = APIRouter(prefix="/api/v1", tags=["call control"], responses=responses(404, 409))
AGENT = require("agent", "supervisor")
SUPERVISION = require("supervisor", "admin")


def running_cti(ctx: ApiContext = Depends(context)) -> Cti:
    if ctx.cti is None:
        raise Unavailable("call control is not running in this API process", code="call_control_unavailable")
    return ctx.cti


class LoginIn(BaseModel):
    extension: str = Field(pattern=r"^[0-9]{3,8}$", examples=["8001"])
    skills: dict[str, int] | None = Field(
        default=None,
        description="skill -> penalty (0 = first choice); default: the configured skills",
        examples=[{"general": 0, "business": 5}],
    )


class PauseIn(BaseModel):
    reason: Literal[PAUSE_REASONS] = Field(examples=["break"])  # type: ignore[valid-type]


class PhoneTargetIn(BaseModel):
    """A phone to consult or conference: a department (by code) or an agent (by extension)."""

    kind: Literal["department", "agent"] = Field(examples=["department"])
    id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$", examples=["D001"])

    def target(self) -> Target:
        return Target(self.kind, self.id)


class TargetIn(PhoneTargetIn):
    """A blind transfer's target: a phone, or a queue by name."""

    kind: Literal["department", "agent", "queue"] = Field(examples=["department"])  # type: ignore[assignment]


class EmergencyIn(BaseModel):
    number: Literal["110", "119", "120"] = "110"
    direct: bool = Field(default=False, description="blind transfer instead of a three-way call the agent leaves")
    ticket_number: str | None = Field(default=None, max_length=16, description="the ticket that records the handoff")


@router.get("/agent/state", summary="My agent state: extension, queues, presence, pause reason")
async def get_state(user: User = Depends(AGENT), cti: Cti = Depends(running_cti)) -> dict:
    return cti.agents.view(user.username)


@router.post("/agent/login", summary="Log in at a softphone: join the skills' queues (AMI QueueAdd)")
async def login(body: LoginIn, user: User = Depends(AGENT), cti: Cti = Depends(running_cti)) -> dict:
    return await cti.agents.login(user.username, body.extension, body.skills)


@router.post("/agent/pause", summary="Pause with a reason code (AMI QueuePause)")
async def pause(body: PauseIn, user: User = Depends(AGENT), cti: Cti = Depends(running_cti)) -> dict:
    return await cti.agents.pause(user.username, body.reason)


@router.post("/agent/unpause", summary="Take calls again")
async def unpause(user: User = Depends(AGENT), cti: Cti = Depends(running_cti)) -> dict:
    return await cti.agents.unpause(user.username)


@router.post("/agent/logout", summary="Leave every queue (AMI QueueRemove)")
async def logout(user: User = Depends(AGENT), cti: Cti = Depends(running_cti)) -> dict:
    return await cti.agents.logout(user.username)


@router.get("/agents", summary="Every logged-in agent's state, for supervisors")
async def list_agents(_: User = Depends(SUPERVISION), cti: Cti = Depends(running_cti)) -> list[dict]:
    return cti.agents.all_views()


@router.get("/wallboard", summary="Waiting calls, longest wait, agents by state, answered within 15 s today")
async def wallboard(_: User = Depends(SUPERVISION), cti: Cti = Depends(running_cti)) -> dict:
    return await cti.wallboard.figures()


@router.post("/calls/{call_id}/hangup", summary="End the call")
async def hangup(call_id: str, user: User = Depends(AGENT), cti: Cti = Depends(running_cti)) -> dict:
    await cti.calls.hangup(user.username, call_id)
    return {"call_id": call_id, "state": "hanging_up"}


@router.post("/calls/{call_id}/hold", summary="Hold: the caller hears music")
async def hold(call_id: str, user: User = Depends(AGENT), cti: Cti = Depends(running_cti)) -> dict:
    return await cti.calls.hold(user.username, call_id)


@router.post("/calls/{call_id}/unhold", summary="Back to the caller")
async def unhold(call_id: str, user: User = Depends(AGENT), cti: Cti = Depends(running_cti)) -> dict:
    return await cti.calls.unhold(user.username, call_id)


@router.post("/calls/{call_id}/transfer", summary="Blind transfer to a department, another agent or a queue")
async def transfer(call_id: str, body: TargetIn, user: User = Depends(AGENT), cti: Cti = Depends(running_cti)) -> dict:
    return await cti.calls.blind_transfer(user.username, call_id, body.target())


@router.post("/calls/{call_id}/consult", summary="Attended transfer: consult the target while the caller holds")
async def consult(
    call_id: str, body: PhoneTargetIn, user: User = Depends(AGENT), cti: Cti = Depends(running_cti)
) -> dict:
    return await cti.calls.consult(user.username, call_id, body.target())


@router.post("/calls/{call_id}/consult/complete", summary="Hand the caller to the consulted target")
async def complete_consult(call_id: str, user: User = Depends(AGENT), cti: Cti = Depends(running_cti)) -> dict:
    return await cti.calls.complete_consult(user.username, call_id)


@router.post("/calls/{call_id}/consult/cancel", summary="End the consultation and return to the caller")
async def cancel_consult(call_id: str, user: User = Depends(AGENT), cti: Cti = Depends(running_cti)) -> dict:
    return await cti.calls.cancel_consult(user.username, call_id)


@router.post("/calls/{call_id}/conference", summary="Three-way call (三方通话) with a department or agent")
async def conference(
    call_id: str, body: PhoneTargetIn, user: User = Depends(AGENT), cti: Cti = Depends(running_cti)
) -> dict:
    return await cti.calls.conference(user.username, call_id, body.target())


@router.post("/calls/{call_id}/conference/leave", summary="Leave the three-way call; the others keep talking")
async def leave_conference(call_id: str, user: User = Depends(AGENT), cti: Cti = Depends(running_cti)) -> dict:
    return await cti.calls.leave_conference(user.username, call_id)


@router.post("/calls/{call_id}/emergency", summary="Hand the caller to 110/119/120 (one key)")
async def emergency(
    call_id: str, body: EmergencyIn, user: User = Depends(AGENT), cti: Cti = Depends(running_cti)
) -> dict:
    return await cti.calls.emergency(user.username, call_id, body.number, body.direct, body.ticket_number)
