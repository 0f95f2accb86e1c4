"""The draft ticket suggested to the agent while the caller speaks, and how much of it the agent kept.

Comparing each suggestion with what the agent accepted gives the record that measures the drafting: per field, the
share of drafts whose suggestion was kept."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

# The suggested fields the agent confirms or corrects; `department` is the top suggested unit's code.
FIELDS = ("request_type", "urgent", "district", "street", "department")


@dataclass(frozen=True)
class SuggestedDepartment:
    code: str
    name: str
    score: float  # 0..100


@dataclass(frozen=True)
class SimilarTicket:
    number: str
    similarity: float  # 0..100
    reason: str  # "same caller" or "same place"


@dataclass(frozen=True)
class KnowledgeHit:
    entry_id: int
    question: str
    score: float  # 0..1


@dataclass(frozen=True)
class DraftTicket:
    call_id: str
    caller: str
    transcript: str
    request_type: str  # a RequestType value; "" before anything was said
    urgent: bool
    emergency_phrases: tuple[str, ...]
    district: str | None
    street: str | None
    departments: tuple[SuggestedDepartment, ...]  # best first
    similar: tuple[SimilarTicket, ...]  # most similar first
    knowledge: tuple[KnowledgeHit, ...]  # best first


def _value(value: object) -> object:
    """'' and None both mean 'none given'."""
    return None if value is None or (isinstance(value, str) and not value.strip()) else value


def draft_changes(draft: DraftTicket, accepted: Mapping[str, object]) -> dict[str, dict[str, object]]:
    """{field: {"suggested": x, "accepted": y}} for each of FIELDS the agent changed; `accepted` holds all of them,
    with `department` the code of the unit the agent chose."""
    if missing := [field for field in FIELDS if field not in accepted]:
        raise ValueError(f"accepted values lack: {', '.join(missing)}")
    suggested = {
        "request_type": draft.request_type,
        "urgent": draft.urgent,
        "district": draft.district,
        "street": draft.street,
        "department": draft.departments[0].code if draft.departments else None,
    }
    changes = {}
    for field in FIELDS:
        before, after = _value(suggested[field]), _value(accepted[field])
        if before != after:
            changes[field] = {"suggested": before, "accepted": after}
    return changes


def draft_accuracy(changes_list: Iterable[Mapping[str, object]]) -> dict[str, float]:
    """Per field, the share (0..1) of drafts whose suggestion the agent kept; {} for no drafts."""
    changes = list(changes_list)
    if not changes:
        return {}
    return {field: sum(field not in c for c in changes) / len(changes) for field in FIELDS}


def draft_from_dict(data: Mapping[str, Any]) -> DraftTicket:
    """A draft as stored (dataclasses.asdict of it, through JSON), back as a DraftTicket."""
    values = dict(data)
    return DraftTicket(
        **values
        | {
            "emergency_phrases": tuple(values["emergency_phrases"]),
            "departments": tuple(SuggestedDepartment(**d) for d in values["departments"]),
            "similar": tuple(SimilarTicket(**s) for s in values["similar"]),
            "knowledge": tuple(KnowledgeHit(**k) for k in values["knowledge"]),
        }
    )
