"""First-pass triage of a request: its type, whether it is urgent, and which units should handle it.

A suggestion for the agent, who confirms or corrects it: cue words for type and urgency, and for departments a
blend of keyword hits, word overlap with the unit's duties, and the units that took similar past requests.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from routing.departments import DepartmentTree, load_departments
from routing.text import add_words, normalise, search_tokens

TOP = 5
DUTIES_HALF = 3.0  # IDF weight of shared duty words that earns half the duties score
NEIGHBOURS = 5
# Score weights, summing to 100: a keyword hit is the strongest evidence, duties wording and history support it.
KEYWORD_WEIGHT, DUTIES_WEIGHT, HISTORY_WEIGHT = 55.0, 25.0, 20.0

# Checked in this order, so on a tie the more serious type wins (a report beats a complaint, ...).
TYPE_CUES: dict[str, tuple[str, ...]] = {
    "report": (
        "举报",
        "违法",
        "违规",
        "非法",
        "偷排",
        "偷偷",
        "无证",
        "没有证",
        "没证",
        "黑作坊",
        "赌博",
        "赌钱",
        "传销",
        "私自",
        "怀疑",
        "假的",
        "假货",
        "无照",
        "没有执照",
    ),
    "complaint": (
        "投诉",
        "不作为",
        "态度恶劣",
        "态度差",
        "态度特别差",
        "态度很差",
        "不认账",
        "没人管",
        "没人来",
        "推诿",
        "踢皮球",
        "乱收费",
        "多收",
        "扰民",
        "吵得",
        "有意见",
        "不满意",
        "强制",
        "欺负人",
        "不给",
        "还没到账",
        "烦死了",
        "不听",
        "不管用",
        "不停",
        "吵",
        "臭",
        "脏",
        "扣了",
        "不让",
        "离谱",
        "凭什么",
        "有问题",
    ),
    "suggestion": ("建议", "希望", "能不能增加", "能不能多", "能不能加", "增设", "多加", "应该增加", "最好能"),
    "consultation": (
        "请问",
        "问一下",
        "问问",
        "咨询",
        "想了解",
        "怎么办理",
        "如何办理",
        "需要什么材料",
        "需要哪些",
        "要带什么",
        "带什么",
        "什么手续",
        "在哪里办",
        "去哪里办",
        "要去哪里",
        "怎么申请",
        "怎么领",
        "能报多少",
        "能贷多少",
        "要交多少",
        "交多少钱",
        "多久",
        "是不是有",
        "手续",
        "补办",
        "什么时候能",
        "怎么用",
        "怎么交",
        "哪里交",
        "流程",
        "政策",
        "条件",
    ),
    "help": ("求助", "帮忙", "帮帮", "帮一下", "困难", "救命", "怎么办", "没办法"),
}
DEFAULT_TYPE = "help"

URGENT_CUES = (
    "紧急",
    "马上",
    "赶紧",
    "快来",
    "快点来",
    "快派人",
    "救命",
    "着火",
    "起火",
    "失火",
    "冒烟",
    "煤气泄漏",
    "燃气泄漏",
    "煤气味",
    "燃气味",
    "漏气",
    "有人受伤",
    "受伤了",
    "触电",
    "被困",
    "困在",
    "关在里面",
    "倒塌",
    "塌了",
    "爆了",
    "爆裂",
    "淹了",
    "晕倒",
)
# Water, power or gas out for two days or more.
_OUTAGE = re.compile(
    r"(停水|停电|停气|没水|没电|没气|断水|断电)[了有都已经]{0,4}([2-9两三四五六七八九十几]|好几)[个]?(天|日)"
)


@dataclass(frozen=True)
class DepartmentScore:
    code: str
    score: float  # 0..100
    matched: list[str]


@dataclass(frozen=True)
class TriageResult:
    type: str
    urgent: bool
    departments: list[DepartmentScore]  # best first, at most TOP


def request_type(text: str) -> str:
    text = normalise(text)
    counts = {kind: sum(cue in text for cue in cues) for kind, cues in TYPE_CUES.items()}
    best = max(counts.values())
    return next(kind for kind, n in counts.items() if n == best) if best else DEFAULT_TYPE


def is_urgent(text: str) -> bool:
    text = normalise(text)
    return any(cue in text for cue in URGENT_CUES) or _OUTAGE.search(text) is not None


class Triage:
    """Indexes the departments and past dispatches once; `triage` is then a few milliseconds."""

    def __init__(self, tree: DepartmentTree, history: Iterable[tuple[str, str]] = ()):
        self._codes = [d.code for d in tree]
        add_words(kw for d in tree for kw in d.keywords)
        units_of: dict[str, list[str]] = {}
        for d in tree:
            for kw in dict.fromkeys(normalise(kw) for kw in d.keywords):
                units_of.setdefault(kw, []).append(d.code)
        self._keywords = sorted(units_of.items(), key=lambda item: -len(item[0]))
        self._duties = {
            d.code: frozenset(w for w in search_tokens(" ".join((d.name, d.duties, *d.keywords))) if len(w) > 1)
            for d in tree
        }
        df = Counter(w for words in self._duties.values() for w in words)
        # Words in many units' duties ('管理', '小区') say little about which unit it is.
        self._idf = {w: math.log(1 + len(self._duties) / n) for w, n in df.items()}
        self._history: list[tuple[frozenset[str], str]] = []
        self._postings: dict[str, list[int]] = {}
        for text, code in history:
            if code not in self._duties:
                continue  # a unit since removed from the tree
            words = frozenset(search_tokens(text))
            for word in words:
                self._postings.setdefault(word, []).append(len(self._history))
            self._history.append((words, code))

    def triage(self, text: str) -> TriageResult:
        words = list(dict.fromkeys(search_tokens(text)))
        word_set = frozenset(words)
        keyword_hits = self._keyword_hits(normalise(text))
        history = self._history_votes(word_set)
        scored: list[DepartmentScore] = []
        for code in self._codes:
            hits = keyword_hits.get(code, [])
            common = [w for w in words if w in self._duties[code]]
            weight = sum(self._idf[w] for w in common)
            duties = weight / (weight + DUTIES_HALF)
            votes, history_words = history.get(code, (0.0, []))
            score = KEYWORD_WEIGHT * (1 - 0.5 ** len(hits)) + DUTIES_WEIGHT * duties + HISTORY_WEIGHT * votes
            if score > 0:
                matched = list(dict.fromkeys([*hits, *common, *history_words]))
                scored.append(DepartmentScore(code, round(score, 1), matched))
        scored.sort(key=lambda s: -s.score)
        return TriageResult(request_type(text), is_urgent(text), scored[:TOP])

    def _keyword_hits(self, text: str) -> dict[str, list[str]]:
        """Keywords found in the text, longest first; one inside a longer hit ('东湖' in '东湖街道') does not count."""
        taken = [False] * len(text)
        hits: dict[str, list[str]] = {}
        for keyword, codes in self._keywords:
            start = text.find(keyword)
            while start >= 0:
                end = start + len(keyword)
                if not all(taken[start:end]):
                    taken[start:end] = [True] * len(keyword)
                    for code in codes:
                        if keyword not in hits.setdefault(code, []):
                            hits[code].append(keyword)
                start = text.find(keyword, start + 1)
        return hits

    def _history_votes(self, words: frozenset[str]) -> dict[str, tuple[float, list[str]]]:
        """Per department: its share of the nearest past requests (by Jaccard overlap), scaled by how near the
        nearest is, and the words shared with them."""
        overlap = Counter(i for w in words for i in self._postings.get(w, ()))
        if not overlap:
            return {}
        nearest = sorted(((n / len(words | self._history[i][0]), i) for i, n in overlap.items()), reverse=True)[
            :NEIGHBOURS
        ]
        total = sum(sim for sim, _ in nearest)
        confidence = min(1.0, 2 * nearest[0][0])  # Jaccard 0.5 between short requests is already a close match
        votes: dict[str, tuple[float, list[str]]] = {}
        for sim, i in nearest:
            past_words, code = self._history[i]
            share, shared = votes.get(code, (0.0, []))
            votes[code] = (share + sim / total * confidence, shared + sorted(words & past_words))
        return votes


def triage_report(departments_path: Path, text: str) -> dict[str, Any]:
    """The JSON shape of `hotline triage --departments FILE --json TEXT`."""
    return asdict(Triage(load_departments(departments_path)).triage(text))
