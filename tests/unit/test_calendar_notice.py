"""A notice file's errors, each named where it is; a file with any error is refused whole."""

from __future__ import annotations

import json
from datetime import date

import pytest

from domain.calendar import Scope
from domain.calendar_notice import MAX_NOTICE_BYTES, InvalidNotice, notice_document, parse_notice, parse_notice_text

GOOD = """
year: 2027
scope: national
notice: 国务院办公厅关于2027年部分节假日安排的通知
holidays:
  - name: 元旦
    days_off: {from: 2027-01-01, to: 2027-01-03}
    total_days: 3
  - name: 春节
    days_off: {from: 2027-02-05, to: 2027-02-13}
    make_up_workdays: [2027-01-31, 2027-02-20]
  - name: 端午节
    days_off: 2027-06-09
"""


def errors_of(text: str) -> list[str]:
    with pytest.raises(InvalidNotice) as refused:
        parse_notice_text(text)
    return [str(error) for error in refused.value.errors]


def test_a_good_notice_in_yaml_and_in_json() -> None:
    notice = parse_notice_text(GOOD)
    assert (notice.year, notice.scope, [h.name for h in notice.holidays]) == (
        2027,
        Scope.NATIONAL,
        ["元旦", "春节", "端午节"],
    )
    assert notice.holidays[1].make_up_workdays == (date(2027, 1, 31), date(2027, 2, 20))
    as_json = json.dumps(notice_document(notice), ensure_ascii=False)
    assert parse_notice_text(as_json) == notice == parse_notice(notice_document(notice))


def test_a_date_outside_the_year() -> None:
    assert errors_of(GOOD.replace("to: 2027-01-03", "to: 2028-01-03")) == [
        "holidays[0].days_off.to: 2028-01-03 is not in 2027: a notice holds the days of its own year",
        "holidays[0].days_off: 368 days; a holiday is at most 31 days",
    ]
    assert errors_of(GOOD.replace("[2027-01-31,", "[2026-12-27,")) == [
        "holidays[1].make_up_workdays[0]: 2026-12-27 is not in 2027: a notice holds the days of its own year"
    ]


def test_a_make_up_day_that_is_not_a_weekend_day() -> None:
    assert errors_of(GOOD.replace("2027-02-20]", "2027-02-22]")) == [
        "holidays[1].make_up_workdays[1]: 2027-02-22 is a Monday; a make-up working day (调休上班) is a Saturday or Sunday"
    ]


def test_a_make_up_day_that_is_a_day_off() -> None:
    assert errors_of(GOOD.replace("[2027-01-31,", "[2027-01-02,")) == [
        "holidays[1].make_up_workdays[0]: 2027-01-02 is a day off of holidays[0] (元旦)"
    ]


def test_overlapping_holidays() -> None:
    overlapping = GOOD + "  - name: 重叠\n    days_off: {from: 2027-02-12, to: 2027-02-14}\n"
    assert errors_of(overlapping) == [
        "holidays[3].days_off: overlaps holidays[1] (春节) on 2027-02-12: a day belongs to one holiday"
    ]


def test_unknown_fields_anywhere() -> None:
    assert errors_of(
        GOOD.replace("scope: national", "scop: national").replace("    total_days: 3", "    totl_days: 3")
    ) == [
        "holidays[0].totl_days: unknown field: remove it or check its spelling",
        "scop: unknown field: remove it or check its spelling",
    ]


def test_every_error_is_named_at_once() -> None:
    bad = (
        GOOD.replace("total_days: 3", "total_days: 4")
        .replace("2027-02-20]", "2027-02-22]")
        .replace("days_off: 2027-06-09", "days_off: 2027-06-31")
    )
    assert errors_of(bad) == [
        "holidays[2].days_off: 2027-06-31 is not a day of the calendar"
    ]  # shape first: the meaning of a file is checked once its shape is right
    assert errors_of(GOOD.replace("total_days: 3", "total_days: 4").replace("2027-02-20]", "2027-02-22]")) == [
        "holidays[0].total_days: says 4 days, but 2027-01-01 to 2027-01-03 is 3 days",
        "holidays[1].make_up_workdays[1]: 2027-02-22 is a Monday; a make-up working day (调休上班) is a Saturday or Sunday",
    ]


@pytest.mark.parametrize(
    ("change", "error"),
    [
        (("days_off: 2027-06-09", "days_off: 20270609"), "holidays[2].days_off: a day is written YYYY-MM-DD"),
        (("days_off: 2027-06-09", "days_off: {from: 2027-06-09}"), "holidays[2].days_off.to: missing"),
        (
            ("days_off: 2027-06-09", "days_off: {from: 2027-06-10, to: 2027-06-09}"),
            "holidays[2].days_off: ends (2027-06-09) before it begins (2027-06-10)",
        ),
        (("year: 2027", "year: twenty"), "year: Input should be a valid integer, unable to parse string as an integer"),
        (("notice: 国务院办公厅关于2027年部分节假日安排的通知\n", ""), "notice: missing"),
    ],
)
def test_shape_errors(change: tuple[str, str], error: str) -> None:
    assert error in errors_of(GOOD.replace(*change))


def test_a_local_notice_closes_days_and_has_no_make_up_days() -> None:
    local = "year: 2027\nscope: local\nnotice: 市政府关于…的通知\nholidays:\n  - name: 市庆\n    days_off: 2027-03-15\n"
    assert parse_notice_text(local).scope is Scope.LOCAL
    assert errors_of(local + "    make_up_workdays: [2027-03-13]\n") == [
        "holidays[0].make_up_workdays[0]: a local notice only closes days; make-up working days come from the national notice"
    ]
    assert parse_notice_text("year: 2027\nscope: local\nnotice: 撤销\nholidays: []\n").holidays == ()


def test_a_national_notice_without_holidays() -> None:
    assert errors_of("year: 2027\nnotice: x\nholidays: []\n") == [
        "holidays: a national notice lists its holidays; none are given"
    ]


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("year: [2027", "notice: not valid YAML or JSON"),
        ("- 2027", "notice: a notice is a mapping with year, scope, notice and holidays"),
        ("a: &x [1, 2]\nb: *x\n", "anchors and aliases (&name, *name) are not accepted"),
        ("x" * (MAX_NOTICE_BYTES + 1), f"a notice file is at most {MAX_NOTICE_BYTES} bytes"),
        ("year: 2027\ud800", "not text: surrogates not allowed at character 10"),
    ],
)
def test_files_that_are_no_notice(text: str, error: str) -> None:
    (found,) = errors_of(text)
    assert error in found
