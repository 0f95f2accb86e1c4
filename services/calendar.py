"""The working calendar the centre maintains (日历管理): the one source of working days for
deadlines, warnings, statistics and the IVR's holiday condition.

Admins enter a year's notice from a file. Before it is applied they can see what it changes: the
days that become working days or days off, and the open tickets whose deadlines move and by how
much. Applying it stores a new version of the year and recomputes those deadlines in the same
transaction, with an audit entry on each ticket whose deadline moved: all of it or none."""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from domain.calendar import Notice, Scope, WorkingCalendar, YearState, missing_years
from domain.calendar_notice import notice_document, parse_notice_text
from domain.deadline_moves import DeadlineMove, MovesSummary, deadline_moves, summarise
from domain.errors import ChangedMeanwhile
from domain.sla import SlaPolicy
from domain.tickets import SHANGHAI
from storage.calendar import NoticeVersion, add_notice_version, calendar_revision, notice_history, notices_in_force
from storage.calendar_seed import SEED_SOURCE, chinese_calendar_notices
from storage.tickets import move_deadline, provisional_open_count, tickets_to_recheck

SEED_ACTOR = "chinesecalendar"


class CalendarChangedMeanwhile(ChangedMeanwhile):
    code = "calendar_changed_meanwhile"


@dataclass(frozen=True)
class DayChange:
    day: date
    was_workday: bool
    is_workday: bool


@dataclass(frozen=True)
class CalendarChange:
    """What entering a notice does (a preview), or did (then `version` is set)."""

    notice: Notice
    source_file: str
    source_sha256: str
    replaces_version: int | None  # the version of the year and scope in force before
    day_changes: list[DayChange]
    moves: list[DeadlineMove]
    summary: MovesSummary
    version: int | None = None


@dataclass(frozen=True)
class YearOverview:
    year: int
    state: YearState
    national: NoticeVersion | None
    local: NoticeVersion | None


@dataclass(frozen=True)
class CalendarStatus:
    today: date
    confirmed_until: date | None
    missing_years: list[int]

    @classmethod
    def of(cls, calendar: WorkingCalendar, today: date) -> CalendarStatus:
        return cls(today, calendar.confirmed_until(today), missing_years(calendar, today))

    @property
    def warnings(self) -> list[str]:
        return [
            f"the working calendar has no {year} notice: enter the State Council's holiday schedule for {year} "
            f"(hotline calendar import FILE); deadlines in {year} are counted on weekends only until then"
            for year in self.missing_years
        ]


def _today() -> date:
    return datetime.now(SHANGHAI).date()


def _reason(notice: Notice, version: int, source_file: str) -> str:
    kind = "节假日安排" if notice.scope is Scope.NATIONAL else "地方休息日"
    return f"{notice.year}年{kind}第{version}版（{source_file}）"


class WorkingCalendars:
    """The calendar in force, cached and re-read when its revision changes (one indexed query per
    use), so an import applies to the next call or ticket of every process without a restart."""

    def __init__(
        self,
        sessions: Callable[[], Session],
        policy: SlaPolicy = SlaPolicy(),
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._sessions = sessions
        self.policy = policy
        self._clock = clock
        self._cached: tuple[int, WorkingCalendar] | None = None
        self._lock = threading.Lock()
        self._entering = threading.Lock()

    def current(self, session: Session) -> WorkingCalendar:
        revision = calendar_revision(session)
        with self._lock:
            if self._cached is not None and self._cached[0] == revision:
                return self._cached[1]
        calendar = WorkingCalendar.of(version.notice for version in notices_in_force(session))
        with self._lock:
            self._cached = (revision, calendar)
        return calendar

    def in_force(self) -> WorkingCalendar:
        with self._sessions() as session:
            return self.current(session)

    def is_workday(self, day: date) -> bool:
        return self.in_force().is_workday(day)

    # --- entering a notice ------------------------------------------------------------------

    def _plan(self, session: Session, text: str, source_file: str) -> CalendarChange:
        notice = parse_notice_text(text)
        before = self.current(session)
        after = before.with_notice(notice)
        first = date(notice.year, 1, 1)
        days = (first + timedelta(days=offset) for offset in range((date(notice.year + 1, 1, 1) - first).days))
        changes = [DayChange(d, before.is_workday(d), after.is_workday(d)) for d in days]
        rechecked = tickets_to_recheck(session, first)
        moves = deadline_moves(rechecked, after, self.policy)
        in_force = {(v.year, v.scope): v.version for v in notices_in_force(session)}
        return CalendarChange(
            notice=notice,
            source_file=source_file,
            source_sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
            replaces_version=in_force.get((notice.year, notice.scope)),
            day_changes=[c for c in changes if c.was_workday != c.is_workday],
            moves=moves,
            summary=summarise(moves, len(rechecked), provisional_open_count(session)),
        )

    def preview(self, text: str, source_file: str) -> CalendarChange:
        """What entering the notice would change; nothing is written. Raises InvalidNotice."""
        with self._sessions() as session:
            return self._plan(session, text, source_file)

    def enter(self, text: str, source_file: str, by: str, role: str = "admin") -> CalendarChange:
        """Stores the notice as the year's next version and moves the deadlines it moves, in one
        transaction. Raises InvalidNotice (nothing stored) or CalendarChangedMeanwhile."""
        with self._entering, self._sessions() as session, session.begin():
            change = self._plan(session, text, source_file)
            now = self._clock()
            summary = change.summary
            note = f"{summary.deadlines_moved} open tickets' deadlines moved, {summary.tickets_rechecked} rechecked"
            try:
                version = add_notice_version(session, change.notice, source_file, change.source_sha256, by, now, note)
            except IntegrityError as exc:  # the unique (year, scope, version): another process stored one
                raise CalendarChangedMeanwhile(
                    f"another import of {change.notice.year} was stored meanwhile: preview again and retry"
                ) from exc
            reason = _reason(change.notice, version, source_file)
            for move in change.moves:
                move_deadline(session, move, by, role, now, reason)
        return CalendarChange(**{**change.__dict__, "version": version})

    def seed_known_years(self) -> list[int]:
        """Enters, from the chinesecalendar package, the years it knows that have no national notice yet."""
        with self._sessions() as session:
            known = self.current(session)
        entered = []
        for notice in chinese_calendar_notices():
            if not known.is_confirmed(notice.year):
                self.enter(_seed_text(notice), SEED_SOURCE, SEED_ACTOR)
                entered.append(notice.year)
        return entered

    # --- what admins look at ----------------------------------------------------------------

    def years(self, today: date | None = None) -> list[YearOverview]:
        """Every year with a notice, and this year and next even without one."""
        today = today or _today()
        with self._sessions() as session:
            in_force = {(v.year, v.scope): v for v in notices_in_force(session)}
        years = sorted({year for year, _ in in_force} | {today.year, today.year + 1})
        return [self._overview(year, in_force) for year in years]

    def year(self, year: int) -> YearOverview:
        with self._sessions() as session:
            in_force = {(v.year, v.scope): v for v in notices_in_force(session) if v.year == year}
        return self._overview(year, in_force)

    @staticmethod
    def _overview(year: int, in_force: dict[tuple[int, Scope], NoticeVersion]) -> YearOverview:
        national = in_force.get((year, Scope.NATIONAL))
        return YearOverview(
            year,
            YearState.CONFIRMED if national else YearState.PROVISIONAL,
            national,
            in_force.get((year, Scope.LOCAL)),
        )

    def history(self, year: int | None = None) -> list[NoticeVersion]:
        with self._sessions() as session:
            return notice_history(session, year)

    def status(self, today: date | None = None) -> CalendarStatus:
        today = today or _today()
        with self._sessions() as session:
            return CalendarStatus.of(self.current(session), today)


def _seed_text(notice: Notice) -> str:
    return json.dumps(notice_document(notice), ensure_ascii=False)
