"""What a change of the working calendar does to tickets' deadlines: which move, and by how much.
The same plan is shown to the admin before an import (the preview) and applied by it. Pure."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from domain.calendar import WorkingCalendar
from domain.sla import Deadlines, SlaPolicy, deadline_for
from domain.tickets import SHANGHAI, Ticket

DEADLINE_MOVED = "deadline_moved"  # the audit action of a deadline recomputed on a calendar change


@dataclass(frozen=True)
class DeadlineMove:
    """A ticket whose stored deadline differs from the one the calendar gives it."""

    number: str
    before: Deadlines | None  # None: stored without a deadline
    after: Deadlines

    @property
    def shift_days(self) -> int | None:
        """Calendar days the close-by day moves (negative: earlier); None when there was none."""
        if self.before is None:
            return None
        return (self.after.close_by.astimezone(SHANGHAI).date() - self.before.close_by.astimezone(SHANGHAI).date()).days

    @property
    def deadline_moved(self) -> bool:
        return self.before is None or self.before.close_by != self.after.close_by

    def audit_note(self, reason: str) -> str:
        after = self.after.close_by.astimezone(SHANGHAI).date().isoformat()
        provisional = "（暂定）" if self.after.provisional else ""
        if self.before is None:
            return f"办结时限设为 {after}{provisional}：{reason}"
        before = self.before.close_by.astimezone(SHANGHAI).date().isoformat()
        return f"办结时限 {before} → {after}{provisional}：{reason}"


def _same(before: Deadlines | None, after: Deadlines) -> bool:
    return before is not None and (before.close_by, before.warn_at, before.provisional) == (
        after.close_by,
        after.warn_at,
        after.provisional,
    )


def deadline_moves(
    tickets: Iterable[tuple[Ticket, Deadlines | None]], calendar: WorkingCalendar, policy: SlaPolicy
) -> list[DeadlineMove]:
    """The tickets whose deadline, warning time or provisional mark differ under `calendar`."""
    moves = []
    for ticket, before in tickets:
        after = deadline_for(
            ticket.request_type, ticket.urgent, ticket.created_at, policy, calendar, ticket.extension_days
        )
        after = Deadlines(after.close_by, after.warn_at, after.provisional)  # contact_by is not calendar time
        if not _same(before, after):
            moves.append(DeadlineMove(ticket.number, before, after))
    return moves


@dataclass(frozen=True)
class MovesSummary:
    tickets_rechecked: int
    deadlines_moved: int  # close-by day changed (or set where there was none)
    deadlines_set: int  # of those, tickets that had none
    by_shift_days: dict[int, int]  # calendar days moved -> how many tickets
    provisional_before: int
    provisional_after: int


def summarise(moves: list[DeadlineMove], rechecked: int, provisional_before: int) -> MovesSummary:
    moved = [move for move in moves if move.deadline_moved]
    shifts = Counter(move.shift_days for move in moved if move.shift_days is not None)
    became_firm = sum(1 for m in moves if m.before is not None and m.before.provisional and not m.after.provisional)
    became_provisional = sum(1 for m in moves if m.after.provisional and (m.before is None or not m.before.provisional))
    return MovesSummary(
        tickets_rechecked=rechecked,
        deadlines_moved=len(moved),
        deadlines_set=sum(1 for move in moved if move.before is None),
        by_shift_days=dict(sorted(shifts.items())),
        provisional_before=provisional_before,
        provisional_after=provisional_before - became_firm + became_provisional,
    )
