"""Working calendars for tests: the years chinesecalendar knows (what a migrated database starts with)."""

from __future__ import annotations

from domain.calendar import WorkingCalendar
from domain.sla import Deadlines, SlaPolicy, deadline_for
from domain.tickets import Ticket
from storage.calendar_seed import chinese_calendar_notices

SEEDED = WorkingCalendar.of(chinese_calendar_notices())
POLICY = SlaPolicy()


def deadlines_of(ticket: Ticket, calendar: WorkingCalendar = SEEDED) -> Deadlines:
    return deadline_for(ticket.request_type, ticket.urgent, ticket.created_at, POLICY, calendar, ticket.extension_days)
