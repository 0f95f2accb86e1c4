"""Prometheus, read from the database when Prometheus scrapes: open tickets by deadline state, and how
far the working calendar is confirmed. A database that cannot be read gives no sample (and a log
line), not an error."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy.orm import Session

from domain.sla import states_of
from services.calendar import WorkingCalendars
from storage.tickets import open_deadlines

log = logging.getLogger(__name__)


class TicketDeadlines(Collector):
    def __init__(self, sessions: Callable[[], Session], clock: Callable[[], datetime] = lambda: datetime.now(UTC)):
        self._sessions = sessions
        self._clock = clock

    def collect(self) -> Iterator[GaugeMetricFamily]:
        try:
            with self._sessions() as session:
                deadlines = open_deadlines(session)
        except Exception:
            log.exception("ticket deadline metrics: the database could not be read")
            return
        family = GaugeMetricFamily(
            "hotline_tickets_open",
            "Open tickets by deadline state (warning: most of the working time used); provisional: the deadline "
            "runs into a year whose holiday notice is not entered yet, and moves when it is",
            labels=["deadline", "provisional"],
        )
        for (state, provisional), count in sorted(states_of(deadlines, self._clock()).items()):
            family.add_metric([str(state), "true" if provisional else "false"], count)
        yield family


class CalendarCoverage(Collector):
    def __init__(self, calendars: WorkingCalendars):
        self._calendars = calendars

    def collect(self) -> Iterator[GaugeMetricFamily]:
        try:
            status = self._calendars.status()
        except Exception:
            log.exception("calendar metrics: the database could not be read")
            return
        yield GaugeMetricFamily(
            "hotline_calendar_confirmed_until",
            "The last year of the unbroken run of years, from this one, whose national holiday notice is entered "
            "(0: not even this year); alert when it is below year() + 1 from November",
            value=status.confirmed_until.year if status.confirmed_until else 0,
        )
        yield GaugeMetricFamily(
            "hotline_calendar_missing_years",
            "Years whose notice is due and not entered (this year; next from 1 November)",
            value=len(status.missing_years),
        )
