"""IVR flow versions for admins: drafts, publishing, rollback, diffs and the audit trail. The work
is done by the IvrAdmin service in transactions of its own, so that no transaction is open while
a version's prompts are rendered and installed."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from agent_api.context import ApiContext, context, require
from agent_api.errors import NamedErrorsOut, responses
from agent_api.params import RowId, VersionField, VersionQuery
from domain.errors import NotFound, Unavailable
from domain.tickets import SHANGHAI
from ivr.engine import CallFacts, QueueStatus
from ivr.simulate import World, simulate
from ivr.validation import FlowError
from services.ivr_versions import IvrAdmin
from storage.ivr_versions import IvrVersion
from storage.users import User

router = APIRouter(prefix="/api/v1/admin/ivr", tags=["ivr"])
ADMIN = require("admin")
# 404 no such version; 409 already live, or not a version that may be rolled back to; 422 the flow is
# invalid (`errors` names each node and field at fault); 502 installing the prompts failed, the live
# version is unchanged.
GOING_LIVE = responses(404, 409, 422, 502, s422=NamedErrorsOut)


class VersionIn(BaseModel):
    source: str = Field(description="the flow's YAML (see ivr/flows/default.yaml), at most 200 kB")
    note: str = Field(default="", max_length=2000, examples=["节假日提示音"])


class RollbackIn(BaseModel):
    to: VersionField | None = Field(
        default=None, description="a version live before; default: the one live before the live one"
    )


class FlowErrorOut(BaseModel):
    where: str
    problem: str


class VersionOut(BaseModel):
    number: int
    status: str = Field(description="live | draft (never published) | retired (was live, is not now)")
    note: str
    created_by: str
    created_at: datetime


class DraftOut(VersionOut):
    errors: list[FlowErrorOut]


class VersionDetailOut(DraftOut):
    source: str


class DiffOut(BaseModel):
    from_version: int
    to_version: int
    unified: str
    added: list[str]
    removed: list[str]
    changed: list[str]
    prompts_changed: list[str]


class EventOut(BaseModel):
    id: int
    at: datetime
    actor: str
    action: str
    version: int
    detail: str


class SimulateIn(BaseModel):
    keys: list[str] = Field(
        default=[],
        max_length=100,
        examples=[["9", "2026120100001", "0"]],
        description="one entry per point where the flow listens (a play with keys, a menu, digits, a callback "
        "offer, a voice message): a key, digits, '-' for none, any word for speech",
    )
    time: datetime | None = Field(default=None, description="when the call comes; default now (Asia/Shanghai if naive)")
    caller: str = Field(default="13800138000", max_length=32)
    barred: bool = False
    longest_wait_seconds: float = Field(default=0, ge=0)
    recent_calls: int = Field(default=0, ge=0, description="the caller's calls in a repeat_caller window")
    tickets: dict[str, str] = Field(default={}, description="ticket number -> status the lookup finds")
    queue_waiting: int = Field(default=0, ge=0)
    queue_wait_seconds: int = Field(default=0, ge=0)
    callback_booked: bool = True


class SimulationOut(BaseModel):
    action: str
    queue: str
    priority: int
    target: str
    language: str
    path: list[str]
    events: list[str]
    inputs_left: list[str]


def ivr_admin(_: User = Depends(ADMIN), ctx: ApiContext = Depends(context)) -> IvrAdmin:
    if ctx.ivr is None:
        raise Unavailable("IVR flow versions are not available in this API", code="ivr_versions_unavailable")
    return ctx.ivr


def _errors(errors: list[FlowError]) -> list[FlowErrorOut]:
    return [FlowErrorOut(where=e.where, problem=e.problem) for e in errors]


def _out(version: IvrVersion) -> VersionOut:
    return VersionOut(**{name: getattr(version, name) for name in VersionOut.model_fields})


@router.get("/versions", summary="Every flow version, newest first")
def get_versions(admin: IvrAdmin = Depends(ivr_admin)) -> list[VersionOut]:
    return [_out(v) for v in admin.versions()]


@router.post(
    "/versions",
    status_code=201,
    response_model=DraftOut,
    summary="Store a flow as a new draft version, valid or not, with what is wrong with it",
)
def post_version(body: VersionIn, user: User = Depends(ADMIN), admin: IvrAdmin = Depends(ivr_admin)) -> DraftOut:
    version, errors = admin.draft(body.source, user.username, body.note)
    return DraftOut(**_out(version).model_dump(), errors=_errors(errors))


@router.get("/versions/{number}", summary="One version with its source and what is wrong with it now")
def get_version(number: RowId, admin: IvrAdmin = Depends(ivr_admin)) -> VersionDetailOut:
    version = admin.version(number)
    errors = _errors(admin.check_version(number))
    return VersionDetailOut(**_out(version).model_dump(), errors=errors, source=version.source)


@router.post(
    "/versions/{number}/publish",
    responses=GOING_LIVE,
    summary="Check the version, install its prompts and make it live",
)
def publish(number: RowId, user: User = Depends(ADMIN), admin: IvrAdmin = Depends(ivr_admin)) -> VersionOut:
    return _out(admin.publish(number, user.username))


@router.post(
    "/rollback",
    responses=GOING_LIVE,
    summary="Make a version that was live before live again (checked and installed again)",
)
def rollback(
    body: RollbackIn | None = None, user: User = Depends(ADMIN), admin: IvrAdmin = Depends(ivr_admin)
) -> VersionOut:
    return _out(admin.rollback(user.username, body.to if body else None))


@router.get(
    "/diff", summary="What changed from one version to another: the text, nodes and prompts", responses=responses(404)
)
def get_diff(from_version: VersionQuery, to_version: VersionQuery, admin: IvrAdmin = Depends(ivr_admin)) -> DiffOut:
    diff = admin.diff(from_version, to_version)
    return DiffOut(
        from_version=from_version,
        to_version=to_version,
        unified=diff.unified,
        added=list(diff.added),
        removed=list(diff.removed),
        changed=list(diff.changed),
        prompts_changed=list(diff.prompts_changed),
    )


@router.get("/audit", summary="Drafts, publishes and rollbacks, newest first")
def get_audit(limit: int = Query(default=100, ge=1, le=1000), admin: IvrAdmin = Depends(ivr_admin)) -> list[EventOut]:
    return [EventOut(**e.__dict__) for e in admin.audit(limit)]


@router.get("/live", summary="The live version", responses=responses(404))
def get_live(admin: IvrAdmin = Depends(ivr_admin)) -> VersionDetailOut:
    version = admin.live()
    if version is None:
        raise NotFound("no version is live yet: publish one", code="no_live_version")
    return VersionDetailOut(
        **_out(version).model_dump(), errors=_errors(admin.check_version(version.number)), source=version.source
    )


@router.post(
    "/versions/{number}/simulate",
    summary="Dry-run a version with given keys, time and caller: the path it takes",
    responses=responses(404, 422, s422=NamedErrorsOut),
)
def post_simulation(
    number: RowId, body: SimulateIn, admin: IvrAdmin = Depends(ivr_admin), ctx: ApiContext = Depends(context)
) -> SimulationOut:
    flow = admin.flow(number)
    when = body.time or datetime.now(SHANGHAI)
    facts = CallFacts(
        body.caller, body.barred, when if when.tzinfo else when.replace(tzinfo=SHANGHAI), body.longest_wait_seconds
    )
    with ctx.sessions() as session:
        calendar = ctx.calendars.current(session)
    world = World(
        body.tickets,
        body.recent_calls,
        QueueStatus(body.queue_waiting, body.queue_wait_seconds),
        body.callback_booked,
        calendar,
    )
    run = simulate(flow, facts, body.keys, world)  # type: ignore[arg-type]
    d = run.decision
    return SimulationOut(
        action=d.action,
        queue=d.queue,
        priority=d.priority,
        target=d.target,
        language=d.language,
        path=list(d.path),
        events=list(run.events),
        inputs_left=list(run.inputs_left),
    )
