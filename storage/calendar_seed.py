"""The seed of the working calendar: the years the `chinesecalendar` package knows, as notices.
Read once, to fill years nobody has entered; after that the database is the only source."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from importlib.metadata import version

from chinese_calendar import constants

from domain.calendar import Holiday, Notice, Scope

SEED_SOURCE = f"chinesecalendar {version('chinesecalendar')}"


def _chinese_name(english: str) -> str:
    return constants.Holiday(english).chinese


def _runs(days: list[date]) -> list[list[date]]:
    runs: list[list[date]] = []
    for day in sorted(days):
        if runs and day - runs[-1][-1] == timedelta(days=1):
            runs[-1].append(day)
        else:
            runs.append([day])
    return runs


def _notice(year: int) -> Notice:
    by_name: dict[str, list[date]] = defaultdict(list)
    for day, name in constants.holidays.items():
        if day.year == year:
            by_name[name].append(day)
    spans = [(name, run[0], run[-1]) for name, days in by_name.items() for run in _runs(days)]
    make_up: dict[tuple[str, date], list[date]] = defaultdict(list)
    for day, name in constants.workdays.items():
        if day.year != year:
            continue
        # The nearest run of the same holiday (any holiday if the year has none of that name).
        candidates = [s for s in spans if s[0] == name] or spans
        nearest = min(candidates, key=lambda s: min(abs((day - s[1]).days), abs((day - s[2]).days)))
        make_up[nearest[0], nearest[1]].append(day)
    holidays = tuple(
        Holiday(_chinese_name(name), first, last, tuple(sorted(make_up[name, first])))
        for name, first, last in sorted(spans, key=lambda s: s[1])
    )
    return Notice(year, Scope.NATIONAL, f"{year}年节假日安排（{SEED_SOURCE}）", holidays)


def chinese_calendar_notices() -> list[Notice]:
    """One national notice for each year the package knows."""
    years = sorted({day.year for day in constants.holidays})
    return [_notice(year) for year in years]
