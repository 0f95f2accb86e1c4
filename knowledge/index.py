"""In-memory keyword search over knowledge entries, fast enough to run while the caller waits.

Text is segmented with jieba once, when an entry is added. Two inverted indexes map terms to
entries: jieba's search-mode words, and CJK character bigrams of keywords and question, so that
a partial word an agent has typed (公积, 医保报) still finds 公积金, 医保报销. Answers get words
only: their bigrams would multiply the index's memory for little gain. Each posting holds the
entry's BM25F weight for the term (keywords count more than the question, the question more than
the answer). A query collects candidates through its rarest terms, sums idf × weight, then
re-ranks only the best RERANK_DEPTH by how much of the query they cover and by rapidfuzz
similarity to their question (rapidfuzz scanning every question would cost more than the
whole search).
"""

from __future__ import annotations

import heapq
import math
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from operator import itemgetter

import jieba
from rapidfuzz import fuzz

from knowledge.entries import KnowledgeEntry, is_active

RERANK_DEPTH = 50
K1 = 1.2
# Final score: BM25 relative to the best candidate, share of the query's characters the entry
# matches, and similarity of the whole query to the entry's question.
BM25_SHARE, COVERAGE_SHARE, SIMILARITY_SHARE = 0.6, 0.3, 0.1

_WORD = re.compile(r"\w+")
_CJK_RUN = re.compile(r"[\u3400-\u9fff]{2,}")

Postings = dict[int, float]  # entry id -> BM25F weight of the term in that entry


@dataclass(frozen=True, slots=True)
class _Field:
    weight: float
    pivot: float  # typical length in characters; fixed, so add/remove never reweights other entries
    b: float  # how strongly length dilutes a hit


_KEYWORDS = _Field(weight=3.0, pivot=12, b=0.3)
_QUESTION = _Field(weight=2.0, pivot=20, b=0.5)
_ANSWER = _Field(weight=1.0, pivot=200, b=0.75)


@dataclass(frozen=True, slots=True)
class Hit:
    entry_id: int
    score: float  # 0..1
    matched: list[str]  # query terms found in the entry, for highlighting, in query order


@dataclass(frozen=True, slots=True)
class _QueryTerm:
    text: str
    postings: Postings
    idf: float
    mask: int  # bit i set: the term covers character i of the query (spaces removed)
    # False for single characters split off a longer keyword (的, 在, 报) and for bigrams across
    # the query's jieba words: those only add to entries other terms found, as on their own they
    # match much of the knowledge base.
    selects: bool


class KnowledgeIndex:
    """Retired entries are kept (so they can be removed) but not indexed; entries with a validity
    window are indexed and checked against the search date."""

    def __init__(self, entries: Iterable[KnowledgeEntry] = ()) -> None:
        self._entries: dict[int, KnowledgeEntry] = {}
        self._words: dict[str, Postings] = {}
        self._bigrams: dict[str, Postings] = {}
        self._terms: dict[int, tuple[tuple[str, ...], tuple[str, ...]]] = {}  # words, bigrams
        self._dated: set[int] = set()
        for entry in entries:
            self.add(entry)

    def __len__(self) -> int:
        return len(self._entries)

    def entry(self, entry_id: int) -> KnowledgeEntry:
        return self._entries[entry_id]

    def add(self, entry: KnowledgeEntry) -> None:
        if entry.id is None:
            raise ValueError("only stored entries (with an id) can be indexed")
        if entry.id in self._entries:
            raise ValueError(f"entry {entry.id} is already indexed; remove it first")
        self._entries[entry.id] = entry
        if entry.retired:
            return
        words, bigrams = _term_weights(entry)
        for index, weights in ((self._words, words), (self._bigrams, bigrams)):
            for term, weight in weights.items():
                index.setdefault(term, {})[entry.id] = weight
        self._terms[entry.id] = (tuple(words), tuple(bigrams))
        if entry.valid_from or entry.valid_to:
            self._dated.add(entry.id)

    def remove(self, entry_id: int) -> None:
        """Raises KeyError for an id that is not in the index."""
        del self._entries[entry_id]
        self._dated.discard(entry_id)
        for index, terms in zip((self._words, self._bigrams), self._terms.pop(entry_id, ((), ())), strict=True):
            for term in terms:
                postings = index[term]
                del postings[entry_id]
                if not postings:
                    del index[term]

    def search(self, query: str, on: date, limit: int = 10) -> list[Hit]:
        parts = _WORD.findall(_normalize(query))
        terms = self._query_terms(parts)
        if not terms or limit <= 0:
            return []
        depth = max(limit, RERANK_DEPTH)
        candidates = heapq.nlargest(depth, self._bm25(terms, depth, on).items(), key=itemgetter(1))
        compact = "".join(parts)
        reranked = []
        for entry_id, bm25 in candidates:
            found = [term for term in terms if entry_id in term.postings]
            covered = 0
            for term in found:
                covered |= term.mask
            question = _normalize(self._entries[entry_id].question)
            score = (
                BM25_SHARE * bm25 / candidates[0][1]
                + COVERAGE_SHARE * covered.bit_count() / len(compact)
                + SIMILARITY_SHARE * fuzz.ratio(compact, question) / 100
            )
            reranked.append((round(score, 4), entry_id, found))
        reranked.sort(key=lambda hit: -hit[0])
        return [Hit(entry_id, score, _highlights(found)) for score, entry_id, found in reranked[:limit]]

    def _bm25(self, terms: list[_QueryTerm], depth: int, on: date) -> dict[int, float]:
        """BM25 scores of active entries that contain the query's rarest terms.

        Terms are taken rarest first until `depth` entries are found; the rest then only add to
        those entries. So an entry lacking the most selective words is left out once enough
        entries have them, which is what an agent typing several keywords means, and the long
        postings of words like 办理 or 材料, which most answers contain, are never walked.
        """
        scores: dict[int, float] = {}
        get = scores.get
        pending = sorted(terms, key=lambda term: (not term.selects, len(term.postings)))
        while pending and pending[0].selects and len(scores) < depth:
            term = pending.pop(0)
            for entry_id, weight in term.postings.items():
                scores[entry_id] = get(entry_id, 0.0) + term.idf * weight
            for entry_id in scores.keys() & self._dated:
                if not is_active(self._entries[entry_id], on):
                    del scores[entry_id]
        for term in pending:
            for entry_id in scores.keys() & term.postings.keys():
                scores[entry_id] += term.idf * term.postings[entry_id]
        return scores

    def _query_terms(self, parts: list[str]) -> list[_QueryTerm]:
        """The index's terms among the query's parts, their jieba words, sub-words and bigrams."""
        masks: dict[tuple[bool, str], int] = defaultdict(int)
        selecting: set[tuple[bool, str]] = set()
        offset = 0
        for part in parts:
            keys = {(True, bigram) for bigram in _bigrams(part)}
            keys.add((False, part))  # a keyword as typed, as the keywords field holds them
            selecting.add((False, part))
            for piece in _pieces(part):
                words = {(False, word) for word in {piece, *_words(piece)}}
                for key in words | {(True, bigram) for bigram in _bigrams(piece)}:
                    keys.add(key)
                    if len(key[1]) > 1 or len(part) == 1:
                        selecting.add(key)
            for key in keys:
                start = part.find(key[1])
                while start >= 0:
                    masks[key] |= ((1 << len(key[1])) - 1) << (offset + start)
                    start = part.find(key[1], start + 1)
            offset += len(part)
        total = len(self._terms)
        query_terms = []
        for key, mask in masks.items():
            is_bigram, text = key
            postings = (self._bigrams if is_bigram else self._words).get(text)
            if postings:
                idf = math.log(1 + (total - len(postings) + 0.5) / (len(postings) + 0.5))
                query_terms.append(_QueryTerm(text, postings, idf, mask, key in selecting))
        return query_terms


def _highlights(found: list[_QueryTerm]) -> list[str]:
    """Matched texts in query order. Longest (then selecting) first, each kept only if it covers
    more of the query."""
    covered = 0
    kept = []
    for term in sorted(found, key=lambda term: (-len(term.text), not term.selects)):
        if term.mask & ~covered:
            covered |= term.mask
            kept.append(term)
    return [term.text for term in sorted(kept, key=lambda term: term.mask & -term.mask)]


def _term_weights(entry: KnowledgeEntry) -> tuple[dict[str, float], dict[str, float]]:
    """BM25F: per-field term frequencies, weighted and length-normalised, summed, then saturated."""
    words: dict[str, float] = defaultdict(float)
    bigrams: dict[str, float] = defaultdict(float)
    keywords = [_normalize(keyword) for keyword in entry.keywords]
    question = _normalize(entry.question)
    answer = _normalize(entry.answer)
    for field, length, field_words, field_bigrams in (
        (
            _KEYWORDS,
            sum(map(len, keywords)),
            [*keywords, *(w for k in keywords for w in _words(k))],
            [b for k in keywords for b in _bigrams(k)],
        ),
        (_QUESTION, len(question), _words(question), _bigrams(question)),
        (_ANSWER, len(answer), _words(answer), []),
    ):
        share = field.weight / (1 - field.b + field.b * length / field.pivot)
        for term in field_words:
            words[term] += share
        for term in field_bigrams:
            bigrams[term] += share
    return (
        {term: tf * (K1 + 1) / (tf + K1) for term, tf in words.items()},
        {term: tf * (K1 + 1) / (tf + K1) for term, tf in bigrams.items()},
    )


def _normalize(text: str) -> str:
    """Full-width letters and digits to ASCII, lower case."""
    return unicodedata.normalize("NFKC", text).lower()


def _words(text: str) -> list[str]:
    return [word for word in jieba.cut_for_search(text) if _WORD.fullmatch(word)]


def _pieces(text: str) -> list[str]:
    """jieba's words, with runs of single characters joined: those are usually a word jieba does
    not know (占道 in 占道经营), which its bigrams can still find."""
    pieces: list[str] = []
    joining = False
    for word in jieba.lcut(text):
        if joining and len(word) == 1:
            pieces[-1] += word
        else:
            pieces.append(word)
        joining = len(word) == 1
    return pieces


def _bigrams(text: str) -> list[str]:
    return [run[i : i + 2] for run in _CJK_RUN.findall(text) for i in range(len(run) - 1)]
