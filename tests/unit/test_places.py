from __future__ import annotations

import json
from pathlib import Path

import pytest

from routing.places import Gazetteer, InvalidGazetteer, Place, load_gazetteer

FUZHOU = Path(__file__).resolve().parents[2] / "routing" / "data" / "gazetteer.json"

# A city where 中山街道 is a street of both 东城区 and 西城区.
CITY = {
    "city": "示例市",
    "districts": [
        {
            "name": "东城区",
            "aliases": ["东城"],
            "streets": [{"name": "中山街道", "aliases": ["中山"]}, {"name": "东湖街道", "aliases": ["东湖"]}],
        },
        {
            "name": "西城区",
            "aliases": ["西城"],
            "streets": [{"name": "中山街道", "aliases": ["中山"]}, {"name": "西门街道"}],
        },
        {"name": "南城区", "streets": [{"name": "南湖镇", "aliases": ["南湖"]}]},
    ],
}


@pytest.fixture(scope="module")
def fuzhou() -> Gazetteer:
    return load_gazetteer(FUZHOU)


@pytest.fixture(scope="module")
def city() -> Gazetteer:
    return Gazetteer.from_data(CITY)


@pytest.mark.parametrize(
    ("text", "district", "street"),
    [
        ("我家住在鼓楼区东街街道那边,楼下烧烤店油烟很大", "鼓楼区", "东街街道"),
        ("我 家 住 在 鼓楼 区 东街 街道 那边", "鼓楼区", "东街街道"),  # Vosk-style words
        ("台江 瀛洲 这边 路灯 坏 了", "台江区", "瀛洲街道"),  # aliases
        ("茶亭街道有个井盖丢了", "台江区", "茶亭街道"),  # a street implies its district
        ("晋安区 鼓山 镇 那 边", "晋安区", "鼓山镇"),
        ("长乐 营前 街", "长乐区", "营前街道"),  # a partial result: the street's alias is already enough
        ("仓山区这边的公交太少了", "仓山区", None),
        ("马尾 区 的", "马尾区", None),
    ],
)
def test_fuzhou_places(fuzhou: Gazetteer, text: str, district: str, street: str | None) -> None:
    place = fuzhou.find(text)
    assert place is not None and (place.district, place.street) == (district, street)


def test_matched_names_are_what_was_heard_and_longest_wins(fuzhou: Gazetteer) -> None:
    assert fuzhou.find("鼓楼 区 东街 街道") == Place("鼓楼区", "东街街道", ("鼓楼区", "东街街道"))
    assert fuzhou.find("就在鼓楼东街") == Place("鼓楼区", "东街街道", ("鼓楼", "东街"))
    # 马尾镇 is a street of 马尾区, whose alias 马尾 is inside it: the longer name is the one heard.
    assert fuzhou.find("我在马尾镇上班") == Place("马尾区", "马尾镇", ("马尾镇",))


@pytest.mark.parametrize("text", ["", "   ", "你好 我 想 问 一下 公积金 怎么 提取", "鼓"])
def test_no_place(fuzhou: Gazetteer, text: str) -> None:
    assert fuzhou.find(text) is None


def test_example_city_file() -> None:
    data = json.loads(FUZHOU.read_text(encoding="utf-8"))
    assert [d["name"] for d in data["districts"]] == ["鼓楼区", "台江区", "仓山区", "晋安区", "马尾区", "长乐区"]
    assert all(1 <= len(d["streets"]) <= 12 for d in data["districts"])


def test_a_shared_street_counts_with_its_district_named(city: Gazetteer) -> None:
    assert city.find("西城 中山 街道 有 人 占道 经营") == Place("西城区", "中山街道", ("西城", "中山街道"))
    assert city.find("东城区中山街道") == Place("东城区", "中山街道", ("东城区", "中山街道"))


def test_a_shared_street_alone_is_ambiguous(city: Gazetteer) -> None:
    assert city.find("中山街道有个路灯坏了") is None
    # Another district named, without the street: only that district.
    assert city.find("南城区 中山 街道") == Place("南城区", None, ("南城区",))


def test_a_street_in_a_named_district_beats_one_elsewhere(city: Gazetteer) -> None:
    assert city.find("南湖那边 不对 是 东城 东湖") == Place("东城区", "东湖街道", ("东城", "东湖"))
    assert city.find("南湖 东湖") == Place("南城区", "南湖镇", ("南湖",))  # then the first heard


def _errors(data: object) -> list[str]:
    with pytest.raises(InvalidGazetteer) as caught:
        Gazetteer.from_data(data)
    assert isinstance(caught.value, ValueError)
    return caught.value.errors


def test_wrong_types_and_empty_names_name_the_entry() -> None:
    data = {
        "city": "示例市",
        "districts": [
            {"name": "东城区", "streets": [{"name": "  "}, {"name": 12}, {"name": "东湖街道", "aliases": "东湖"}]},
            {"name": "", "streets": []},
        ],
    }
    errors = _errors(data)
    assert any(e.startswith("districts[0] (东城区).streets[0].name: ") for e in errors)
    assert any(e.startswith("districts[0] (东城区).streets[1].name: ") and "string" in e for e in errors)
    assert any(e.startswith("districts[0] (东城区).streets[2] (东湖街道).aliases: ") for e in errors)
    assert any(e.startswith("districts[1].name: ") for e in errors)
    assert len(errors) == 4


def test_unknown_fields_and_wrong_shapes() -> None:
    assert _errors([]) == ["expected an object with 'city' and 'districts', got list"]
    errors = _errors({"city": "示例市", "districts": [{"name": "东城区", "street": []}]})
    assert [e.split(":")[0] for e in errors] == ["districts[0] (东城区).street"]
    assert _errors({"city": "示例市", "districts": []})[0].startswith("districts: ")


def test_duplicate_names() -> None:
    data = {
        "city": "示例市",
        "districts": [
            {
                "name": "东城区",
                "aliases": ["东城"],
                "streets": [
                    {"name": "东湖街道", "aliases": ["东湖"]},
                    {"name": "东湖 街道"},
                    {"name": "东城镇", "aliases": ["东城"]},
                ],
            },
            {"name": "西城区", "aliases": ["东城"]},
        ],
    }
    assert _errors(data) == [
        "districts[1] (西城区).aliases[0]: '东城' already names districts[0] (东城区).aliases[0]",
        "districts[0] (东城区).streets[1] (东湖 街道).name: '东湖 街道' already names "
        "districts[0] (东城区).streets[0] (东湖街道).name",
        "districts[0] (东城区).streets[2] (东城镇).aliases[0]: '东城' already names districts[0] (东城区).aliases[0]",
    ]


def test_unreadable_file(tmp_path: Path) -> None:
    path = tmp_path / "gazetteer.json"
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(InvalidGazetteer, match="cannot read JSON"):
        load_gazetteer(path)
