from __future__ import annotations

import json
from pathlib import Path

import pytest

from routing.departments import Department, DepartmentTree, InvalidDepartments, load_departments, parse_departments

BENCH_DEPARTMENTS = Path(__file__).resolve().parents[2] / "bench" / "data" / "departments.json"


def unit(code: str, parent: str | None = None, **extra) -> dict:
    entry = {"code": code, "name": f"{code} 单位", "duties": f"{code} 的职责", **extra}
    if parent is not None:
        entry["parent"] = parent
    return entry


def found(tree: DepartmentTree, code: str) -> Department:
    department = tree.get(code)
    assert department is not None, f"no unit {code}"
    return department


def errors_of(data: object) -> list[str]:
    with pytest.raises(InvalidDepartments) as caught:
        parse_departments(data)
    return caught.value.errors


def test_parses_levels_children_and_roots() -> None:
    tree = parse_departments([unit("district", keywords=["东湖区"]), unit("street", parent="district"), unit("water")])
    assert found(tree, "district").level == 2 and found(tree, "district").keywords == ("东湖区",)
    assert found(tree, "street").level == 3 and found(tree, "street").parent == "district"
    assert [d.code for d in tree.children("district")] == ["street"]
    assert tree.children("water") == []
    assert tree.is_subunit("district", "street") and not tree.is_subunit("water", "street")
    assert not tree.is_subunit("district", "nowhere")
    assert [d.code for d in tree.roots()] == ["district", "water"]
    assert tree.get("nowhere") is None and len(tree) == 3


def test_not_a_list() -> None:
    assert errors_of({"code": "x"}) == ["expected a list of departments, got dict"]


def test_field_errors_name_the_entry_and_field() -> None:
    errors = errors_of(
        [
            unit("a"),
            {"code": "b", "name": " ", "duties": 3},
            {"name": "无编码"},
            unit("c", keywords="噪音"),
            unit("d", keywords=["ok", ""]),
            unit("e", parent=""),
            unit("f", keyword=["typo"]),
            "g",
            unit("h", phone="ext 9001"),
        ]
    )
    assert errors == [
        "[1] (code 'b').name: empty",
        "[1] (code 'b').duties: expected a string, got int",
        "[2].code: missing",
        "[2].duties: missing",
        "[3] (code 'c').keywords: expected a list of strings, got str",
        "[4] (code 'd').keywords[1]: expected a non-empty string, got ''",
        "[5] (code 'e').parent: expected a department code or null, got ''",
        "[6] (code 'f').keyword: unknown field; known: code, name, duties, parent, keywords, phone",
        "[7]: expected an object, got str",
        "[8] (code 'h').phone: expected 3 to 20 digits (the unit's phone extension), got 'ext 9001'",
    ]


def test_duplicate_codes_and_unknown_parent() -> None:
    errors = errors_of([unit("a"), unit("a"), unit("b", parent="ghost")])
    assert errors == [
        "[1] (code 'a').code: duplicate of entry [0]",
        "[2] (code 'b').parent: unknown department 'ghost'",
    ]


def test_cycle_is_reported_once() -> None:
    errors = errors_of([unit("a", parent="b"), unit("b", parent="a"), unit("c", parent="a")])
    assert errors == ["[0] (code 'a').parent: cycle a -> b -> a"]


def test_more_than_two_levels_below_the_centre() -> None:
    errors = errors_of([unit("district"), unit("street", parent="district"), unit("community", parent="street")])
    assert errors == [
        "[2] (code 'community').parent: 'street' is itself a sub-unit; the network has only two levels below the centre"
    ]


def test_load_reports_unreadable_json(tmp_path: Path) -> None:
    path = tmp_path / "departments.json"
    path.write_text("[{", encoding="utf-8")
    with pytest.raises(InvalidDepartments, match="cannot read JSON"):
        load_departments(path)
    path.write_text(json.dumps([unit("a")]), encoding="utf-8")
    assert found(load_departments(path), "a").name == "a 单位"


def test_bench_city_is_valid() -> None:
    tree = load_departments(BENCH_DEPARTMENTS)
    assert len(tree.roots()) >= 25
    assert all(d.level == 3 and found(tree, d.parent).level == 2 for d in tree if d.parent)
