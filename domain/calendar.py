"""The centre's working calendar (工作日历): which days are working days, and which years are
confirmed. Pure.

A year is *confirmed* once the State Council's notice for it (国务院办公厅关于20XX年部分节假日安排
的通知) has been entered: its holidays are off and its make-up working days (调休上班) are on. A year
without one is *provisional*: weekends off, every other day on, until the notice comes. A city's
own closed days (a local notice) are off on top of either."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum

FIRST_YEAR, LAST_YEAR = 2000, 2200  # the years a calendar can hold notices for; dates outside are refused


class Scope(StrEnum):
    NATIONAL = "national"  # the State Council's notice: holidays and make-up working days
    LOCAL = "local"  # the city's own closed days


class YearState(StrEnum):
    CONFIRMED = "confirmed"
    PROVISIONAL = "provisional"


@dataclass(frozen=True, slots=True)
class Holiday:
    """One holiday of a notice: the days off (a run of days, weekends included, as the notice
    counts them) and the weekend days worked instead."""

    name: str
    first_day: date
    last_day: date
    make_up_workdays: tuple[date, ...] = ()

    def days_off(self) -> Iterator[date]:
        day = self.first_day
        while day <= self.last_day:
            yield day
            day += timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Notice:
    """A year's schedule as one document: national (the State Council's) or local (the city's)."""

    year: int
    scope: Scope
    title: str
    holidays: tuple[Holiday, ...]

    def days_off(self) -> set[date]:
        return {day for holiday in self.holidays for day in holiday.days_off()}

    def make_up_workdays(self) -> set[date]:
        return {day for holiday in self.holidays for day in holiday.make_up_workdays}


def is_weekend(day: date) -> bool:
    return day.weekday() >= 5


@dataclass(frozen=True)
class WorkingCalendar:
    """The working days the centre counts time limits, warnings and statistics on. Built from the
    notices in force: at most one national and one local notice per year."""

    notices: Mapping[tuple[int, Scope], Notice] = field(default_factory=dict)
    _off: frozenset[date] = field(init=False, repr=False)
    _on: frozenset[date] = field(init=False, repr=False)
    _confirmed: frozenset[int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        off = {day for notice in self.notices.values() for day in notice.days_off()}
        on = {day for (_, scope), n in self.notices.items() if scope is Scope.NATIONAL for day in n.make_up_workdays()}
        object.__setattr__(self, "_off", frozenset(off))
        object.__setattr__(self, "_on", frozenset(on - off))  # a city may close a make-up Saturday
        confirmed = frozenset(year for year, scope in self.notices if scope is Scope.NATIONAL)
        object.__setattr__(self, "_confirmed", confirmed)

    @classmethod
    def of(cls, notices: Iterable[Notice]) -> WorkingCalendar:
        return cls({(notice.year, notice.scope): notice for notice in notices})

    def with_notice(self, notice: Notice) -> WorkingCalendar:
        """This calendar with `notice` in place of the year's notice of the same scope."""
        return WorkingCalendar({**self.notices, (notice.year, notice.scope): notice})

    def is_workday(self, day: date) -> bool:
        if day in self._off:
            return False
        return day in self._on or not is_weekend(day)

    def is_confirmed(self, year: int) -> bool:
        return year in self._confirmed

    def state(self, year: int) -> YearState:
        return YearState.CONFIRMED if self.is_confirmed(year) else YearState.PROVISIONAL

    def notice(self, year: int, scope: Scope) -> Notice | None:
        return self.notices.get((year, scope))

    def spans_provisional(self, first: date, last: date) -> bool:
        """Whether any day from `first` to `last` lies in a provisional year."""
        return any(not self.is_confirmed(year) for year in range(first.year, last.year + 1))

    def confirmed_until(self, today: date) -> date | None:
        """The last day of the unbroken run of confirmed years starting with today's; None when
        today's own year is provisional."""
        year = today.year
        if not self.is_confirmed(year):
            return None
        while self.is_confirmed(year + 1):
            year += 1
        return date(year, 12, 31)

    def years(self) -> list[int]:
        return sorted({year for year, _ in self.notices})


NEXT_YEAR_DUE = (11, 1)  # (month, day): the State Council publishes next year's notice in November or December


def missing_years(calendar: WorkingCalendar, today: date) -> list[int]:
    """Years whose national notice is due and not entered: this year at any time, next year
    from 1 November on."""
    due = [today.year, today.year + 1] if (today.month, today.day) >= NEXT_YEAR_DUE else [today.year]
    return [year for year in due if not calendar.is_confirmed(year)]
