from __future__ import annotations

import json
from pathlib import Path

import pytest

from routing.departments import parse_departments
from routing.text import tokens
from routing.triage import Triage, is_urgent, request_type, triage_report

CITY = [
    {
        "code": "urban",
        "name": "城管执法局",
        "duties": "负责市容环境卫生、占道经营和违章搭建查处。",
        "keywords": ["占道经营", "摆摊", "违建"],
    },
    {
        "code": "env",
        "name": "生态环境局",
        "duties": "负责大气和水污染防治,查处企业偷排和工业噪声扰民。",
        "keywords": ["偷排", "污染"],
    },
    {
        "code": "fund",
        "name": "住房公积金管理中心",
        "duties": "负责住房公积金缴存、提取和贷款。",
        "keywords": ["公积金"],
    },
    {"code": "med", "name": "医疗保障局", "duties": "负责医疗保险参保缴费和报销。", "keywords": ["医保"]},
    {"code": "donghu", "name": "东湖区人民政府", "duties": "负责东湖区辖区综合管理。", "keywords": ["东湖"]},
    {
        "code": "donghu.street",
        "name": "东湖街道办事处",
        "duties": "负责东湖街道社区管理和邻里纠纷调解。",
        "parent": "donghu",
        "keywords": ["东湖街道", "湖心社区"],
    },
]


@pytest.fixture(scope="module")
def triage() -> Triage:
    return Triage(parse_departments(CITY))


def test_domain_words_stay_whole() -> None:
    words = tokens("楼下噪音太大,有人占道经营,我想问医保和公积金的事")
    assert {"噪音", "占道经营", "医保", "公积金"} <= set(words)
    assert "的" not in words and "," not in words


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("请问公积金提取需要什么材料", "consultation"),
        ("我要投诉窗口工作人员态度恶劣", "complaint"),
        ("举报有家工厂半夜偷排废水", "report"),
        ("建议在我们小区门口增设一个公交站", "suggestion"),
        ("家里老人生病了实在困难,想请你们帮忙", "help"),
        ("楼下的路灯坏了", "help"),
        ("我想咨询一下怎么举报", "report"),  # on a tie the more serious type wins
    ],
)
def test_request_type(text: str, kind: str) -> None:
    assert request_type(text) == kind


@pytest.mark.parametrize(
    ("text", "urgent"),
    [
        ("厨房里煤气泄漏了", True),
        ("对面楼着火了", True),
        ("我们这里已经停水三天了", True),
        ("停电好几天了还没人来修", True),
        ("请马上派人过来", True),
        ("停水通知什么时候发", False),
        ("公积金怎么提取", False),
    ],
)
def test_urgency(text: str, urgent: bool) -> None:
    assert is_urgent(text) is urgent


def test_keyword_hit_ranks_the_unit_first_and_says_why(triage: Triage) -> None:
    result = triage.triage("小区门口天天有人摆摊,占道经营,路都堵了")
    best = result.departments[0]
    assert best.code == "urban" and {"摆摊", "占道经营"} <= set(best.matched)
    assert all(0 < d.score <= 100 for d in result.departments)
    assert [d.score for d in result.departments] == sorted((d.score for d in result.departments), reverse=True)


def test_duties_wording_counts_without_a_keyword(triage: Triage) -> None:
    best = triage.triage("想把住房公积金里的钱提取出来").departments[0]
    assert best.code == "fund"


def test_street_keyword_beats_the_district_name_inside_it(triage: Triage) -> None:
    result = triage.triage("东湖街道湖心社区有邻居天天吵架")
    street, district = result.departments[:2]
    assert (street.code, district.code) == ("donghu.street", "donghu")
    assert district.score < street.score / 2  # '东湖' inside '东湖街道' is no keyword hit for the district


def test_a_keyword_shared_by_two_units_counts_for_both() -> None:
    city = [
        {**unit, "keywords": [*unit["keywords"], "噪音"]} if unit["code"] in ("urban", "env") else unit for unit in CITY
    ]
    result = Triage(parse_departments(city)).triage("晚上噪音很大")
    assert {d.code for d in result.departments if "噪音" in d.matched} >= {"urban", "env"}


def test_past_dispatches_vote_for_their_unit() -> None:
    text = "河对面的养殖场把粪水排进河里"
    without = Triage(parse_departments(CITY)).triage(text)
    with_history = Triage(parse_departments(CITY), [("养殖场的粪水排进河里了", "env"), ("有人在河里排粪水", "env")])
    best = with_history.triage(text).departments[0]
    assert best.code == "env" and "粪水" in best.matched
    assert best.score > next((d.score for d in without.departments if d.code == "env"), 0)


def test_history_for_unknown_units_is_ignored() -> None:
    result = Triage(parse_departments(CITY), [("养殖场排粪水", "gone")]).triage("养殖场排粪水")
    assert "gone" not in [d.code for d in result.departments]


def test_nothing_matches(triage: Triage) -> None:
    result = triage.triage("喂喂,你好")
    assert result.departments == [] and result.type == "help" and not result.urgent


def test_at_most_five_departments() -> None:
    many = [{"code": f"u{i}", "name": f"单位{i}", "duties": "负责路灯维护。", "keywords": ["路灯"]} for i in range(8)]
    assert len(Triage(parse_departments(many)).triage("路灯坏了").departments) == 5


def test_triage_report_is_the_cli_json(tmp_path: Path) -> None:
    path = tmp_path / "departments.json"
    path.write_text(json.dumps(CITY, ensure_ascii=False), encoding="utf-8")
    report = triage_report(path, "举报工厂偷排污水,马上来看看")
    assert set(report) == {"type", "urgent", "departments"}
    assert (report["type"], report["urgent"]) == ("report", True)
    assert report["departments"][0]["code"] == "env"
    assert set(report["departments"][0]) == {"code", "score", "matched"}
    assert json.loads(json.dumps(report, ensure_ascii=False)) == report
