from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from routing.duplicates import PriorRequest, duplicate_candidates

NOW = datetime(2024, 5, 20, 10, 0)
NEW = PriorRequest(
    number="T-new",
    caller_number="13800138000",
    district="东湖区",
    street="东湖街道",
    address="湖光小区3栋",
    content="湖光小区门口每天晚上有人摆摊卖烧烤,油烟很大,吵到半夜",
    created_at=NOW,
)
SIMILAR = "小区门口晚上摆摊卖烧烤的油烟太大了,半夜还在吵"


def prior(number: str, content: str = SIMILAR, days_ago: float = 3, **fields) -> PriorRequest:
    base = PriorRequest(
        number, "13900000000", "西城区", "西门街道", "西门大街1号", content, NOW - timedelta(days=days_ago)
    )
    return replace(base, **fields)


def codes(found) -> list[tuple[str, str]]:
    return [(p.number, reason) for p, _, reason in found]


def test_same_caller_similar_content() -> None:
    found = duplicate_candidates(NEW, [prior("T1", caller_number="+86 138-0013-8000")])
    assert codes(found) == [("T1", "same caller")]
    assert 60 <= found[0][1] <= 100


def test_same_place_by_district_and_street_or_by_address() -> None:
    found = duplicate_candidates(
        NEW,
        [
            prior("T1", district="东湖区", street="东湖街道"),
            prior("T2", address=" 湖光小区 3栋 "),
            prior("T3", district="东湖区"),  # same district, other street: not the same place
        ],
    )
    assert sorted(codes(found)) == [("T1", "same place"), ("T2", "same place")]


def test_different_content_is_not_a_duplicate() -> None:
    found = duplicate_candidates(NEW, [prior("T1", content="想问一下公积金怎么提取", caller_number="13800138000")])
    assert found == []


def test_outside_the_window_or_the_request_itself() -> None:
    found = duplicate_candidates(
        NEW,
        [
            prior("T1", caller_number="13800138000", days_ago=31),
            prior("T-new", caller_number="13800138000", days_ago=0),
            prior("T2", caller_number="13800138000", days_ago=29),
        ],
    )
    assert codes(found) == [("T2", "same caller")]
    assert duplicate_candidates(NEW, [prior("T1", caller_number="13800138000", days_ago=10)], within_days=7) == []


def test_blank_callers_and_places_never_match() -> None:
    new = replace(NEW, caller_number="", district="", street="", address="")
    assert duplicate_candidates(new, [prior("T1", caller_number="", district="", street="", address="")]) == []


def test_sorted_by_similarity_then_most_recent() -> None:
    found = duplicate_candidates(
        NEW,
        [
            prior("older", caller_number="13800138000", days_ago=9),
            prior("weaker", content="小区门口的路灯坏了好几天,晚上很黑", caller_number="13800138000", days_ago=1),
            prior("newer", caller_number="13800138000", days_ago=2),
        ],
        min_similarity=0,
    )
    assert [p.number for p, _, _ in found][:2] == ["newer", "older"]
    assert found[-1][0].number == "weaker" and found[-1][1] < found[0][1]
