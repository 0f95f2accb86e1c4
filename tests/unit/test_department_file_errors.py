"""Department files that cannot be used are refused with the entry and field at fault, by
parse_departments and by `hotline departments import`, before anything is written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import String

from hotline.cli import main
from routing.departments import InvalidDepartments, parse_departments
from storage.tables import DepartmentRow

COLUMNS = DepartmentRow.__table__.columns


def length_of(column: str) -> int:
    kind = COLUMNS[column].type
    assert isinstance(kind, String) and kind.length is not None, f"{column} is not a String(n) column"
    return kind.length


def unit(code: str, **extra) -> dict:
    return {"code": code, "name": f"{code} 单位", "duties": f"{code} 的职责", **extra}


def errors_of(data: object) -> list[str]:
    with pytest.raises(InvalidDepartments) as caught:
        parse_departments(data)
    return caught.value.errors


@pytest.mark.parametrize(
    ("contents", "problem"),
    [
        (b"[{", "cannot read JSON"),
        ("[]".encode("utf-16"), "cannot read JSON"),  # not UTF-8
        (b'{"code": "zjj"}', "expected a list of departments, got dict"),
        (json.dumps([unit("zjj"), unit("zjj")]).encode(), "[1] (code 'zjj').code: duplicate of entry [0]"),
        (json.dumps([unit("wy", parent="zjj")]).encode(), "[0] (code 'wy').parent: unknown department 'zjj'"),
    ],
    ids=["truncated", "utf-16", "not-a-list", "duplicate", "orphan"],
)
def test_the_import_command_names_the_problem_and_stops(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], contents: bytes, problem: str
) -> None:
    path = tmp_path / "departments.json"
    path.write_bytes(contents)

    assert main(["departments", "import", str(path)]) == 1

    out, err = capsys.readouterr()
    assert problem in err and out == ""


def test_the_import_command_names_a_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "nope.json"

    assert main(["departments", "import", str(missing)]) == 1

    assert f"{missing}: cannot read JSON" in capsys.readouterr().err


def test_a_phone_longer_than_its_column_is_refused() -> None:
    too_long = "9" * (length_of("phone") + 1)

    assert errors_of([unit("zjj", phone=too_long)]) == [
        f"[0] (code 'zjj').phone: expected 3 to 20 digits (the unit's phone extension), got '{too_long}'"
    ]


@pytest.mark.parametrize("field", ["code", "name"])
def test_a_value_longer_than_its_column_is_refused_naming_the_field(field: str) -> None:
    entry = unit("zjj") | {field: "x" * (length_of(field) + 1)}

    errors = errors_of([entry])

    assert len(errors) == 1 and f".{field}: " in errors[0] and str(length_of(field)) in errors[0]
