"""A draft ticket from what the caller has said so far: rebuilt on every partial recognition result, so it must
take a few milliseconds. The agent confirms or corrects it (see domain.drafts for how much they kept)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Protocol

from domain.drafts import DraftTicket, KnowledgeHit, SimilarTicket, SuggestedDepartment
from routing.departments import DepartmentTree
from routing.duplicates import PriorRequest, duplicate_candidates
from routing.emergency import EmergencySpotter
from routing.places import Gazetteer
from routing.text import join_cjk, tokens
from routing.triage import Triage

KNOWLEDGE_HITS = 3
SIMILAR_TICKETS = 5


class _Hit(Protocol):
    @property
    def entry_id(self) -> int: ...

    @property
    def score(self) -> float: ...


class _Entry(Protocol):
    @property
    def question(self) -> str: ...


class KnowledgeSearch(Protocol):
    """What a draft needs of knowledge.index.KnowledgeIndex (routing sits beside knowledge, not above it)."""

    def entry(self, entry_id: int) -> _Entry: ...

    def search(self, query: str, on: date, limit: int = ...) -> Sequence[_Hit]: ...


class DraftBuilder:
    def __init__(
        self,
        triage: Triage,
        departments: DepartmentTree,  # the tree `triage` was built from, for the units' names
        gazetteer: Gazetteer,
        spotter: EmergencySpotter,
        knowledge: KnowledgeSearch | None = None,
    ):
        self._triage = triage
        self._departments = departments
        self._gazetteer = gazetteer
        self._spotter = spotter
        self._knowledge = knowledge

    def build(
        self, call_id: str, caller: str, transcript: str, prior: Iterable[PriorRequest], at: datetime
    ) -> DraftTicket:
        """`transcript` may be a recogniser's space-separated words; the draft holds it with those spaces removed.
        `prior`: earlier tickets to check for repeats; `at`: now, naive or aware like their `created_at` (its date
        decides which knowledge entries are in force)."""
        text = join_cjk(transcript).strip()
        if not text:
            return DraftTicket(call_id, caller, "", "", False, (), None, None, (), (), ())
        triage = self._triage.triage(text)
        phrases = self._spotter.spot(text)
        place = self._gazetteer.find(text)
        district, street = (place.district, place.street) if place else (None, None)
        new = PriorRequest(
            number="",
            caller_number=caller,
            district=district or "",
            street=street or "",
            address="",
            content=text,
            created_at=at,
        )
        similar = duplicate_candidates(new, prior)[:SIMILAR_TICKETS]
        return DraftTicket(
            call_id=call_id,
            caller=caller,
            transcript=text,
            request_type=triage.type,
            urgent=triage.urgent or bool(phrases),
            emergency_phrases=phrases,
            district=district,
            street=street,
            departments=tuple(SuggestedDepartment(d.code, self._name(d.code), d.score) for d in triage.departments),
            similar=tuple(SimilarTicket(p.number, similarity, reason) for p, similarity, reason in similar),
            knowledge=self._knowledge_hits(text, at.date()),
        )

    def _name(self, code: str) -> str:
        department = self._departments.get(code)
        return department.name if department else code

    def _knowledge_hits(self, text: str, on: date) -> tuple[KnowledgeHit, ...]:
        if self._knowledge is None:
            return ()
        # Content words only, as an agent types keywords: chit-chat (喂, 我想反映一下) would find entries by itself.
        if not (query := " ".join(tokens(text))):
            return ()
        return tuple(
            KnowledgeHit(hit.entry_id, self._knowledge.entry(hit.entry_id).question, hit.score)
            for hit in self._knowledge.search(query, on, limit=KNOWLEDGE_HITS)
        )
