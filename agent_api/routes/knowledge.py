"""The knowledge base: agents search it while the caller waits; supervisors and admins keep it."""

from __future__ import annotations

import dataclasses
from datetime import date

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from agent_api.context import ApiContext, context, db, require
from agent_api.errors import ListedErrorsOut, responses
from agent_api.params import RowId
from domain.errors import Invalid, NotFound
from knowledge.entries import KnowledgeEntry, validate_entry
from knowledge.importer import parse_csv, parse_json
from storage.knowledge import add_entries, get_entry, update_entry
from storage.users import User

router = APIRouter(prefix="/api/v1/knowledge", tags=["knowledge base"])
EDITORS = ("supervisor", "admin")
MAX_IMPORT_BYTES = 16 * 1024 * 1024  # a whole knowledge base, as CSV or JSON
LARGE_BODIES = {"/api/v1/knowledge/import": MAX_IMPORT_BYTES}  # path → its body limit, above the default


class EntryIn(BaseModel):
    question: str = Field(examples=["住房公积金提取需要哪些材料？"])
    answer: str = Field(
        examples=["携带身份证、银行卡及购房合同到公积金中心任一网点办理，也可在“i公积金”小程序线上办理。"]
    )
    keywords: list[str] = Field(default=[], examples=[["公积金", "提取"]])
    department_code: str | None = Field(default=None, examples=["gjj"])
    valid_from: date | None = None
    valid_to: date | None = None


class EntryOut(EntryIn):
    id: int
    retired: bool


class HitOut(BaseModel):
    entry: EntryOut
    score: float
    matched: list[str]


def _out(entry: KnowledgeEntry) -> EntryOut:
    return EntryOut(**{**dataclasses.asdict(entry), "keywords": list(entry.keywords)})


def _entry(body: EntryIn, entry_id: int | None = None, retired: bool = False) -> KnowledgeEntry:
    entry = KnowledgeEntry(
        id=entry_id,
        question=body.question,
        answer=body.answer,
        keywords=tuple(body.keywords),
        department_code=body.department_code,
        valid_from=body.valid_from,
        valid_to=body.valid_to,
        retired=retired,
    )
    validate_entry(entry)
    return entry


def _missing(entry_id: int) -> NotFound:
    return NotFound(f"no knowledge entry {entry_id}", code="knowledge_entry_not_found")


@router.get("/search", summary="Ranked entries for the keywords an agent types")
def search(
    q: str = Query(min_length=1, max_length=200, examples=["公积金 提取"]),
    limit: int = Query(default=10, ge=1, le=50),
    _: User = Depends(require("agent", "supervisor", "admin", "department")),
    session: Session = Depends(db),
    ctx: ApiContext = Depends(context),
) -> list[HitOut]:
    hits = ctx.indexes.knowledge.get(session).search(q, date.today(), limit=limit)
    found = (
        (get_entry(session, h.entry_id), h) for h in hits
    )  # an entry deleted since the index was built is left out
    return [
        HitOut(entry=_out(entry), score=h.score, matched=list(h.matched)) for entry, h in found if entry is not None
    ]


@router.post("", status_code=201, summary="Add an entry")
def create(
    body: EntryIn,
    _: User = Depends(require(*EDITORS)),
    session: Session = Depends(db),
    ctx: ApiContext = Depends(context),
) -> EntryOut:
    index = ctx.indexes.knowledge.get(session)  # built before the insert, so it does not contain the entry yet
    (entry,) = add_entries(session, [_entry(body)])
    index.add(entry)
    return _out(entry)


@router.get("/{entry_id}", summary="One entry", responses=responses(404))
def read(
    entry_id: RowId,
    _: User = Depends(require("agent", "supervisor", "admin", "department")),
    session: Session = Depends(db),
) -> EntryOut:
    entry = get_entry(session, entry_id)
    if entry is None:
        raise _missing(entry_id)
    return _out(entry)


def _replace(session: Session, ctx: ApiContext, entry_id: int, entry: KnowledgeEntry) -> EntryOut:
    stored = update_entry(session, entry)
    if stored is None:
        raise _missing(entry_id)
    index = ctx.indexes.knowledge.get(session)
    index.remove(entry_id)
    index.add(stored)
    return _out(stored)


@router.put("/{entry_id}", summary="Edit an entry", responses=responses(404))
def edit(
    entry_id: RowId,
    body: EntryIn,
    _: User = Depends(require(*EDITORS)),
    session: Session = Depends(db),
    ctx: ApiContext = Depends(context),
) -> EntryOut:
    return _replace(session, ctx, entry_id, _entry(body, entry_id))


@router.post("/{entry_id}/retire", summary="Retire an entry: kept on record, no longer found", responses=responses(404))
def retire(
    entry_id: RowId,
    _: User = Depends(require(*EDITORS)),
    session: Session = Depends(db),
    ctx: ApiContext = Depends(context),
) -> EntryOut:
    entry = get_entry(session, entry_id)
    if entry is None:
        raise _missing(entry_id)
    return _replace(session, ctx, entry_id, dataclasses.replace(entry, retired=True))


async def import_text(request: Request) -> str:
    """The import's text, read only once the dependencies before this one (signing in) have passed:
    an import may be large, and nobody's body is held in memory before they are known."""
    try:
        return (await request.body()).decode("utf-8")
    except UnicodeDecodeError:
        raise Invalid("the import is not UTF-8 text", code="import_not_utf8") from None


@router.post(
    "/import",
    status_code=201,
    summary="Import entries from JSON (a list) or CSV text",
    responses=responses(413, 422, s422=ListedErrorsOut),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "text/plain": {
                    "schema": {"type": "string"},
                    "example": "question,answer,keywords,department,valid_from,valid_to\n...",
                }
            },
        }
    },
)
def import_entries(
    format: str = Query(pattern="^(json|csv)$"),
    _: User = Depends(require(*EDITORS)),
    body: str = Depends(import_text),
    session: Session = Depends(db),
    ctx: ApiContext = Depends(context),
) -> dict[str, int]:
    entries = parse_json(body) if format == "json" else parse_csv(body)
    index = ctx.indexes.knowledge.get(session)  # built before the insert, so it does not contain the entries yet
    stored = add_entries(session, entries)
    for entry in stored:
        index.add(entry)
    return {"imported": len(stored)}
