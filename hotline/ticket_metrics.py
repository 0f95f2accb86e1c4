"""Prometheus: open tickets by deadline state (ok, warning, overdue), read from the database when
Prometheus scrapes. A database that cannot be read gives no sample (and a log line), not an error."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy.orm import Session

from domain.sla import SlaPolicy, states_of
from storage.tickets import open_deadlines

log = logging.getLogger(__name__)


class TicketDeadlines(Collector):
    def __init__(
        self, sessions: Callable[[], Session], policy: SlaPolicy = SlaPolicy(),
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ):
        self._sessions = sessions
        self._policy = policy
        self._clock = clock

    def collect(self) -> Iterator[GaugeMetricFamily]:
        try:
            with self._sessions() as session:
                spans = open_deadlines(session)
        except Exception:
            log.exception("ticket deadline metrics: the database could not be read")
            return
        family = GaugeMetricFamily(
            "hotline_tickets_open",
            "Open tickets by deadline state (warning: most of the working time used; unknown: beyond the calendar)",
            labels=["deadline"],
        )
        for state, count in states_of(spans, self._clock(), self._policy).items():
            family.add_metric([state], count)
        yield family
