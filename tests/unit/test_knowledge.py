from __future__ import annotations

import json
from datetime import date

import pytest

from knowledge import (
    ImportErrors,
    InvalidEntry,
    KnowledgeEntry,
    KnowledgeIndex,
    is_active,
    parse_csv,
    parse_json,
    validate_entry,
)

TODAY = date(2025, 6, 1)


def entry(id: int, question: str, answer: str, *keywords: str, **fields) -> KnowledgeEntry:
    return KnowledgeEntry(id=id, question=question, answer=answer, keywords=keywords, **fields)


ENTRIES = [
    entry(
        1,
        "住房公积金提取需要什么条件？",
        "购房、租房、退休、离职满半年可申请提取住房公积金，可通过浙里办或住房公积金中心窗口办理。",
        "公积金",
        "提取",
    ),
    entry(2, "住房公积金贷款额度怎么计算？", "贷款额度按缴存余额的15倍计算，最高不超过60万元。", "公积金", "贷款"),
    entry(
        3,
        "居住证办理需要哪些材料？",
        "携带身份证、一寸照片、租房合同或房产证明，到居住地派出所办理，15个工作日内领证。",
        "居住证",
        "暂住证",
    ),
    entry(4, "居住证到期了怎么续签？", "居住证有效期一年，期满前30日内到派出所或通过浙里办签注。", "居住证", "签注"),
    entry(
        5,
        "医保异地就医备案怎么办理？",
        "参保人可通过国家医保服务平台App或浙里办申请异地就医备案，备案后异地住院可直接结算。",
        "医保",
        "异地就医",
        "备案",
    ),
    entry(
        6,
        "异地就医的医疗费用怎么报销？",
        "未直接结算的，凭发票、费用清单、出院小结到参保地医保经办机构手工报销。",
        "医保报销",
        "异地",
    ),
    entry(
        7,
        "新生儿怎么落户？",
        "父母一方携带出生医学证明、户口簿、结婚证到户籍派出所办理新生儿入户，可网上办理出生一件事。",
        "新生儿",
        "落户",
        "出生一件事",
    ),
    entry(
        8,
        "楼下商铺噪音扰民向哪里投诉？",
        "社会生活噪音可拨打110，营业性噪音由综合执法部门处理，也可通过12345热线反映。",
        "噪音",
        "扰民",
        "投诉",
    ),
    entry(
        9,
        "不动产登记需要预约吗？",
        "不动产登记中心实行预约办理，可通过浙里办预约，带身份证和权属证明。",
        "不动产",
        "房产证",
    ),
    entry(
        10,
        "社保缴费基数如何确定？",
        "以本人上年度月平均工资为缴费基数，低于下限按下限，高于上限按上限。",
        "社保",
        "缴费基数",
    ),
    entry(
        11,
        "电动车上牌在哪里办理？",
        "电动自行车携带购车发票、合格证、身份证到车管所或指定上牌点办理登记上牌。",
        "电动自行车",
        "上牌",
        "电动车",
    ),
    entry(
        12,
        "家里燃气泄漏怎么报修？",
        "立即关闭阀门、开窗通风，到室外拨打燃气公司24小时抢修电话。",
        "燃气",
        "报修",
        "抢修",
    ),
    entry(13, "停水通知在哪里查询？", "计划停水信息在自来水公司官网和微信公众号提前24小时公布。", "停水", "自来水"),
    entry(
        14,
        "占道经营向哪个部门投诉？",
        "占道经营由综合行政执法局负责查处，可拨打12345反映具体地址。",
        "占道经营",
        "流动摊贩",
    ),
    entry(
        15,
        "2024年度个税汇算清缴截止时间？",
        "2024年度汇算于2025年3月1日至6月30日办理。",
        "个税",
        "汇算",
        valid_from=date(2025, 1, 1),
        valid_to=date(2025, 6, 30),
    ),
    entry(16, "旧版公积金提取规定（已废止）", "本规定已废止。", "公积金", "提取", retired=True),
    entry(
        17,
        "2023年度个税汇算清缴截止时间？",
        "2023年度汇算于2024年3月1日至6月30日办理。",
        "个税",
        "汇算",
        valid_to=date(2024, 6, 30),
    ),
]


@pytest.fixture(scope="module")
def index() -> KnowledgeIndex:
    return KnowledgeIndex(ENTRIES)


def ids(hits) -> list[int]:
    return [hit.entry_id for hit in hits]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("公积金 提取", 1),
        ("公积金贷款", 2),
        ("居住证办理材料", 3),
        ("居住证 续签", 4),
        ("医保 异地 备案", 5),
        ("异地就医 报销", 6),
        ("新生儿落户", 7),
        ("噪音 投诉", 8),
        ("占道经营", 14),
        ("社保基数", 10),
        ("电动车上牌", 11),
        ("燃气报修", 12),
        ("停水", 13),
        ("不动产登记 预约", 9),
    ],
)
def test_typical_queries_rank_the_right_entry_first(index: KnowledgeIndex, query: str, expected: int) -> None:
    hits = index.search(query, TODAY)
    assert hits and hits[0].entry_id == expected, [(h.entry_id, h.score) for h in hits]


@pytest.mark.parametrize(("query", "expected"), [("公积", 1), ("医保报", 6), ("积金提", 1), ("燃气报", 12)])
def test_partial_words_hit(index: KnowledgeIndex, query: str, expected: int) -> None:
    assert expected in ids(index.search(query, TODAY, limit=3))


def test_matched_terms_are_given_for_highlighting(index: KnowledgeIndex) -> None:
    top = index.search("医保 异地 备案", TODAY)[0]
    assert top.matched == ["医保", "异地", "备案"]
    assert index.search("居住证办理材料", TODAY)[0].matched == ["居住证", "办理", "材料"]


def test_scores_are_descending_and_limit_holds(index: KnowledgeIndex) -> None:
    hits = index.search("公积金", TODAY, limit=2)
    assert len(hits) == 2
    assert hits[0].score >= hits[1].score
    assert set(ids(hits)) == {1, 2}


def test_full_width_digits_are_normalised(index: KnowledgeIndex) -> None:
    assert 14 in ids(index.search("１２３４５", TODAY))


def test_retired_entries_are_never_returned(index: KnowledgeIndex) -> None:
    assert 16 not in ids(index.search("旧版公积金提取规定", TODAY, limit=50))


def test_entries_outside_their_validity_are_not_returned(index: KnowledgeIndex) -> None:
    assert ids(index.search("个税汇算", TODAY)) == [15]
    assert ids(index.search("个税汇算", date(2024, 5, 1))) == [17]
    assert ids(index.search("个税汇算", date(2025, 7, 1))) == []


@pytest.mark.parametrize("query", ["", "   ", "？！", "不存在的词语"])
def test_queries_without_known_terms_return_nothing(index: KnowledgeIndex, query: str) -> None:
    assert index.search(query, TODAY) == []


def test_add_and_remove_without_rebuilding() -> None:
    index = KnowledgeIndex(ENTRIES)
    index.add(entry(20, "护照办理需要多久？", "出入境窗口受理后7个工作日出证。", "护照", "出入境"))
    assert ids(index.search("护照", TODAY)) == [20]

    index.remove(20)
    index.add(entry(20, "护照加急办理怎么申请？", "持急事证明可申请加急，3个工作日出证。", "护照", "加急"))
    assert ids(index.search("护照 加急", TODAY)) == [20]
    assert ids(index.search("出入境", TODAY)) == []

    index.remove(1)
    assert 1 not in ids(index.search("公积金 提取", TODAY))
    index.remove(16)  # retired entries are held too, so an edit can remove them
    assert len(index) == len(ENTRIES) - 1


def test_add_rejects_duplicates_and_unsaved_entries() -> None:
    index = KnowledgeIndex(ENTRIES[:1])
    with pytest.raises(ValueError):
        index.add(ENTRIES[0])
    with pytest.raises(ValueError):
        index.add(entry(None, "问题", "答案"))  # type: ignore[arg-type]
    with pytest.raises(KeyError):
        index.remove(99)


def test_is_active_bounds_are_inclusive() -> None:
    e = entry(1, "q", "a", valid_from=date(2025, 1, 1), valid_to=date(2025, 1, 31))
    assert [is_active(e, date(2025, 1, d)) for d in (1, 31)] == [True, True]
    assert not is_active(e, date(2024, 12, 31))
    assert not is_active(e, date(2025, 2, 1))
    assert not is_active(entry(1, "q", "a", retired=True), TODAY)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"question": "  "}, "question"),
        ({"answer": ""}, "answer"),
        ({"question": "问" * 501}, "question"),
        ({"answer": "答" * 5001}, "answer"),
        ({"valid_from": date(2025, 2, 1), "valid_to": date(2025, 1, 1)}, "valid_to"),
        ({"keywords": ("医保", " ")}, "keywords"),
    ],
)
def test_validate_entry_names_the_field(changes: dict, field: str) -> None:
    base = {"id": None, "question": "问题", "answer": "答案"}
    with pytest.raises(InvalidEntry) as raised:
        validate_entry(KnowledgeEntry(**(base | changes)))
    assert raised.value.field == field


def test_validate_entry_accepts_limits() -> None:
    validate_entry(KnowledgeEntry(id=None, question="问" * 500, answer="答" * 5000))


def test_parse_json() -> None:
    text = json.dumps(
        [
            {
                "question": "燃气怎么报修？",
                "answer": "拨打抢修电话。",
                "keywords": ["燃气", "报修"],
                "department": "GAS",
            },
            {
                "question": "停水查询",
                "answer": "看官网。",
                "keywords": "停水、自来水,供水",
                "valid_from": "2025-01-01",
                "valid_to": "2025-12-31",
            },
        ],
        ensure_ascii=False,
    )
    first, second = parse_json(text)
    assert first == KnowledgeEntry(None, "燃气怎么报修？", "拨打抢修电话。", ("燃气", "报修"), "GAS", None, None, False)
    assert second.keywords == ("停水", "自来水", "供水")
    assert (second.valid_from, second.valid_to) == (date(2025, 1, 1), date(2025, 12, 31))


def test_parse_json_collects_every_error() -> None:
    text = json.dumps(
        [
            {"question": "好的", "answer": "好的"},
            {"question": "", "answer": "有答案", "valid_from": "2025/01/01"},
            {"question": "问题", "answer": "答案", "valid_from": "2025-03-01", "valid_to": "2025-02-01", "dept": "X"},
            "not an object",
            {"question": "问题", "answer": 42, "keywords": 7},
        ]
    )
    with pytest.raises(ImportErrors) as raised:
        parse_json(text)
    errors = raised.value.errors
    assert any(e.startswith("row 2, valid_from:") for e in errors)
    assert any(e.startswith("row 2, question:") for e in errors)
    assert any(e.startswith("row 3, valid_to:") for e in errors)
    assert any(e.startswith("row 3, dept:") for e in errors)
    assert any(e.startswith("row 4:") for e in errors)
    assert any(e.startswith("row 5, answer:") for e in errors)
    assert any(e.startswith("row 5, keywords:") for e in errors)
    assert not any(e.startswith("row 1") for e in errors)


@pytest.mark.parametrize("text", ["{not json", '{"question": "q"}'])
def test_parse_json_rejects_malformed_files(text: str) -> None:
    with pytest.raises(ImportErrors):
        parse_json(text)


CSV = (
    "\ufeffquestion,answer,keywords,department,valid_from,valid_to\r\n"
    '居住证怎么办？,"带身份证,到派出所办理。",居住证、暂住证,PSB,,\r\n'
    "\r\n"
    "电动车上牌,到车管所。,电动车,,2025-01-01,\r\n"
)


def test_parse_csv_with_bom() -> None:
    first, second = parse_csv(CSV)
    assert first.answer == "带身份证,到派出所办理。"
    assert first.keywords == ("居住证", "暂住证")
    assert first.department_code == "PSB"
    assert second.valid_from == date(2025, 1, 1) and second.valid_to is None
    assert parse_csv(CSV.removeprefix("\ufeff")) == [first, second]


def test_parse_csv_errors_name_spreadsheet_rows() -> None:
    text = "question,answer,keywords,department,valid_from,valid_to\n好,好,,,,\n,答案,,,,\n问,答,,,2025-13-01,\n问,答\n"
    with pytest.raises(ImportErrors) as raised:
        parse_csv(text)
    errors = raised.value.errors
    assert [e.split(",")[0].split(":")[0] for e in errors] == ["row 3", "row 4", "row 5"]
    assert errors[0].startswith("row 3, question:")
    assert errors[1].startswith("row 4, valid_from:")


def test_parse_csv_checks_the_header() -> None:
    with pytest.raises(ImportErrors) as raised:
        parse_csv("question,keyword\n问,词\n")
    assert raised.value.errors == ["header: unknown column 'keyword'", "header: missing column 'answer'"]
