"""The department tree (dispatch network) and triage of request texts against it."""

from __future__ import annotations

from fastapi import APIRouter, Body, Depends
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from agent_api.context import ApiContext, context, db, require
from agent_api.errors import ListedErrorsOut, responses
from routing.departments import parse_departments
from storage.departments import list_departments, replace_departments
from storage.users import User

router = APIRouter(prefix="/api/v1", tags=["departments"])
ANY_STAFF = ("agent", "supervisor", "admin", "department")


class DepartmentOut(BaseModel):
    code: str
    name: str
    duties: str
    parent: str | None
    keywords: list[str]
    level: int
    phone: str | None = None


class TriageRequest(BaseModel):
    text: str = Field(
        min_length=2, max_length=5000, examples=["我家楼下的烧烤店每天晚上油烟很大，还占道经营，投诉过好几次了"]
    )


class DepartmentScoreOut(BaseModel):
    code: str
    score: float
    matched: list[str]


class TriageOut(BaseModel):
    type: str
    urgent: bool
    departments: list[DepartmentScoreOut]


@router.get("/departments", summary="All member units, level 2 first")
def get_departments(_: User = Depends(require(*ANY_STAFF)), session: Session = Depends(db)) -> list[DepartmentOut]:
    return [DepartmentOut(**{**d.__dict__, "keywords": list(d.keywords)}) for d in list_departments(session)]


@router.put(
    "/departments",
    summary="Replace the department tree with a JSON list of {code, name, duties, parent?, keywords?, phone?}",
    responses=responses(422, s422=ListedErrorsOut),
)
def put_departments(
    body: list[dict] = Body(
        examples=[[{"code": "zjj", "name": "市住建局", "duties": "房屋建设、物业管理", "keywords": ["物业"]}]]
    ),
    _: User = Depends(require("admin")),
    session: Session = Depends(db),
    ctx: ApiContext = Depends(context),
) -> dict[str, int]:
    count = replace_departments(session, parse_departments(body))
    ctx.indexes.departments_changed()
    return {"departments": count}


@router.post("/triage", summary="Request type, urgency and ranked departments for a request text")
def post_triage(
    body: TriageRequest,
    _: User = Depends(require("agent", "supervisor", "admin")),
    session: Session = Depends(db),
    ctx: ApiContext = Depends(context),
) -> TriageOut:
    result = ctx.indexes.triage.get(session).triage(body.text)
    return TriageOut(
        type=result.type,
        urgent=result.urgent,
        departments=[
            DepartmentScoreOut(code=d.code, score=d.score, matched=list(d.matched)) for d in result.departments
        ],
    )
