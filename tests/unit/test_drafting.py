from __future__ import annotations

import json
from dataclasses import asdict, replace
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from domain.drafts import DraftTicket, SuggestedDepartment, draft_accuracy, draft_changes
from domain.tickets import RequestType
from knowledge import KnowledgeEntry, KnowledgeIndex
from routing.departments import parse_departments
from routing.drafting import DraftBuilder
from routing.duplicates import PriorRequest
from routing.emergency import DEFAULT_EMERGENCY_PHRASES, DEFAULT_NOT_EMERGENCIES, EmergencySpotter
from routing.places import load_gazetteer
from routing.triage import Triage, is_urgent

GAZETTEER = Path(__file__).resolve().parents[2] / "routing" / "data" / "gazetteer.json"
NOW = datetime(2025, 6, 1, 10, 0)
CALLER = "13800138000"

CITY = [
    {
        "code": "urban",
        "name": "城管执法局",
        "duties": "负责市容环境卫生、占道经营、露天烧烤和违章搭建查处。",
        "keywords": ["占道经营", "摆摊", "露天烧烤", "违建"],
    },
    {
        "code": "env",
        "name": "生态环境局",
        "duties": "负责大气和水污染防治,查处餐饮油烟、企业偷排和工业噪声扰民。",
        "keywords": ["油烟", "偷排", "污染"],
    },
    {
        "code": "fund",
        "name": "住房公积金管理中心",
        "duties": "负责住房公积金缴存、提取和贷款。",
        "keywords": ["公积金"],
    },
    {
        "code": "police",
        "name": "市公安局",
        "duties": "负责治安管理,查处打架斗殴等违法行为。",
        "keywords": ["打架", "治安"],
    },
]
ENTRIES = [
    KnowledgeEntry(
        1, "住房公积金提取需要什么条件？", "购房、租房、退休、离职满半年可申请提取住房公积金。", ("公积金", "提取")
    ),
    KnowledgeEntry(
        2, "楼下饭店油烟扰民向哪里反映？", "餐饮油烟由生态环境部门查处,露天烧烤由城管查处。", ("油烟", "烧烤")
    ),
    KnowledgeEntry(3, "居住证办理需要哪些材料？", "携带身份证、照片、租房合同到派出所办理。", ("居住证",)),
    KnowledgeEntry(4, "2024年公积金提取新政", "已过期的政策。", ("公积金", "提取"), valid_to=date(2024, 12, 31)),
]
SMOKE = "我 是 鼓楼 区 东街 街道 的 我们 小区 楼下 烧烤 店 油烟 很 大 吵 到 半夜 都 没人 管"


@pytest.fixture(scope="module")
def builder() -> DraftBuilder:
    tree = parse_departments(CITY)
    spotter = EmergencySpotter(DEFAULT_EMERGENCY_PHRASES, ignore=DEFAULT_NOT_EMERGENCIES)
    return DraftBuilder(Triage(tree), tree, load_gazetteer(GAZETTEER), spotter, KnowledgeIndex(ENTRIES))


def ticket(
    number: str,
    content: str,
    days_ago: float = 3,
    caller: str = "13900000000",
    district: str = "台江区",
    street: str = "瀛洲街道",
) -> PriorRequest:
    return PriorRequest(number, caller, district, street, "", content, NOW - timedelta(days=days_ago))


def test_a_vosk_transcript_becomes_a_draft(builder: DraftBuilder) -> None:
    draft = builder.build("call-1", CALLER, SMOKE, [], NOW)
    assert draft.transcript == "我是鼓楼区东街街道的我们小区楼下烧烤店油烟很大吵到半夜都没人管"
    assert (draft.request_type, draft.urgent, draft.emergency_phrases) == ("complaint", False, ())
    assert (draft.district, draft.street) == ("鼓楼区", "东街街道")
    assert draft.departments[0] == SuggestedDepartment("env", "生态环境局", draft.departments[0].score)
    assert 0 < draft.departments[0].score <= 100
    assert [hit.entry_id for hit in draft.knowledge] == [2]
    assert draft.knowledge[0].question == "楼下饭店油烟扰民向哪里反映？"


def test_departments_and_types_are_triage_s(builder: DraftBuilder) -> None:
    tree = parse_departments(CITY)
    text = "我们小区门口天天有人摆摊占道经营"
    result, draft = Triage(tree).triage(text), builder.build("call-1", CALLER, text, [], NOW)
    assert [(d.code, d.score) for d in draft.departments] == [(d.code, d.score) for d in result.departments]
    assert draft.request_type == result.type and draft.departments[0].name == "城管执法局"


def test_consultation_gets_knowledge_in_force_top_three_at_most(builder: DraftBuilder) -> None:
    draft = builder.build("call-2", CALLER, "请问 一下 公积金 提取 需要 什么 材料", [], NOW)
    assert draft.request_type == RequestType.CONSULTATION
    assert draft.departments[0].code == "fund"
    assert draft.knowledge[0].entry_id == 1 and 4 not in [hit.entry_id for hit in draft.knowledge]  # 4 expired
    assert len(draft.knowledge) <= 3
    assert [hit.score for hit in draft.knowledge] == sorted((hit.score for hit in draft.knowledge), reverse=True)


def test_an_emergency_phrase_makes_it_urgent(builder: DraftBuilder) -> None:
    text = "喂 台江 瀛洲 这边 楼下 有人 在 打人 还 拿刀"
    assert not is_urgent(text.replace(" ", ""))  # triage alone would not say so
    draft = builder.build("call-3", CALLER, text, [], NOW)
    assert draft.urgent and draft.emergency_phrases == ("打人", "拿刀")
    assert (draft.district, draft.street) == ("台江区", "瀛洲街道")


def test_triage_urgency_without_an_emergency_phrase(builder: DraftBuilder) -> None:
    draft = builder.build("call-4", CALLER, "我们 这里 已经 停水 三天 了", [], NOW)
    assert draft.urgent and draft.emergency_phrases == ()


def test_similar_earlier_tickets_by_caller_or_place(builder: DraftBuilder) -> None:
    prior = [
        ticket("T1", "东街街道小区楼下烧烤店油烟很大,半夜还很吵", caller=f"+86{CALLER}"),  # same caller
        ticket("T2", "小区楼下烧烤店油烟太大吵到半夜", district="鼓楼区", street="东街街道"),  # same place
        ticket("T3", "小区楼下烧烤店油烟太大吵到半夜"),  # another place, another caller
        ticket("T4", "公积金怎么提取", caller=CALLER),  # same caller, another matter
        ticket("T5", "楼下烧烤店油烟很大吵到半夜", caller=CALLER, days_ago=40),  # too long ago
    ]
    draft = builder.build("call-5", CALLER, SMOKE, prior, NOW)
    assert sorted((s.number, s.reason) for s in draft.similar) == [("T1", "same caller"), ("T2", "same place")]
    assert all(60 <= s.similarity <= 100 for s in draft.similar)


def test_partial_results_as_they_grow(builder: DraftBuilder) -> None:
    partials = [
        "喂",
        "喂 你好 我 是 鼓楼",
        "喂 你好 我 是 鼓楼 区 东街",
        "喂 你好 我 是 鼓楼 区 东街 街道 楼下 烧烤 店 油烟",
    ]
    drafts = [builder.build("call-6", CALLER, text, [], NOW) for text in partials]
    assert [(d.district, d.street) for d in drafts] == [
        (None, None),
        ("鼓楼区", None),
        ("鼓楼区", "东街街道"),
        ("鼓楼区", "东街街道"),
    ]
    assert drafts[0].departments == () and drafts[0].knowledge == ()
    assert drafts[-1].departments[0].code == "env"


@pytest.mark.parametrize("transcript", ["", "   ", "\u3000"])
def test_nothing_said_yet_is_an_empty_draft(builder: DraftBuilder, transcript: str) -> None:
    draft = builder.build("call-7", CALLER, transcript, [ticket("T1", "油烟", caller=CALLER)], NOW)
    assert draft == DraftTicket("call-7", CALLER, "", "", False, (), None, None, (), (), ())


def test_without_a_knowledge_base(builder: DraftBuilder) -> None:
    tree = parse_departments(CITY)
    bare = DraftBuilder(Triage(tree), tree, load_gazetteer(GAZETTEER), EmergencySpotter(["着火"]))
    assert bare.build("call-8", CALLER, "公积金 提取", [], NOW).knowledge == ()


def test_a_draft_is_json_friendly(builder: DraftBuilder) -> None:
    draft = builder.build("call-9", CALLER, SMOKE, [ticket("T1", "楼下烧烤店油烟很大吵到半夜", caller=CALLER)], NOW)
    data = json.loads(json.dumps(asdict(draft), ensure_ascii=False))
    assert data["departments"][0] == {"code": "env", "name": "生态环境局", "score": draft.departments[0].score}
    assert data["similar"][0]["number"] == "T1" and data["knowledge"][0]["entry_id"] == 2


def _accepted(draft: DraftTicket, **changed: object) -> dict[str, object]:
    kept = {
        "request_type": draft.request_type,
        "urgent": draft.urgent,
        "district": draft.district,
        "street": draft.street,
        "department": draft.departments[0].code if draft.departments else None,
    }
    return {**kept, **changed}


def test_draft_changes(builder: DraftBuilder) -> None:
    draft = builder.build("call-10", CALLER, SMOKE, [], NOW)
    assert draft_changes(draft, _accepted(draft)) == {}
    assert draft_changes(draft, _accepted(draft, request_type=RequestType.COMPLAINT)) == {}  # an enum or its value
    assert draft_changes(draft, _accepted(draft, department="urban", street="南街街道", urgent=True)) == {
        "urgent": {"suggested": False, "accepted": True},
        "street": {"suggested": "东街街道", "accepted": "南街街道"},
        "department": {"suggested": "env", "accepted": "urban"},
    }


def test_draft_changes_of_an_empty_draft() -> None:
    empty = DraftTicket("call-11", CALLER, "", "", False, (), None, None, (), (), ())
    accepted = {"request_type": "help", "urgent": False, "district": "", "street": None, "department": "urban"}
    assert draft_changes(empty, accepted) == {  # '' and None both mean none
        "request_type": {"suggested": None, "accepted": "help"},
        "department": {"suggested": None, "accepted": "urban"},
    }


def test_draft_changes_needs_every_field(builder: DraftBuilder) -> None:
    draft = builder.build("call-12", CALLER, SMOKE, [], NOW)
    accepted = _accepted(draft)
    del accepted["street"], accepted["urgent"]
    with pytest.raises(ValueError, match="accepted values lack: urgent, street"):
        draft_changes(draft, accepted)


def test_draft_accuracy(builder: DraftBuilder) -> None:
    draft = builder.build("call-13", CALLER, SMOKE, [], NOW)
    changes = [
        draft_changes(draft, _accepted(draft)),
        draft_changes(draft, _accepted(draft, department="urban")),
        draft_changes(replace(draft, departments=()), _accepted(draft, department="urban", street=None)),
        draft_changes(draft, _accepted(draft, request_type="help")),
    ]
    assert draft_accuracy(changes) == {
        "request_type": 0.75,
        "urgent": 1.0,
        "district": 1.0,
        "street": 0.75,
        "department": 0.5,
    }
    assert draft_accuracy([]) == {}
