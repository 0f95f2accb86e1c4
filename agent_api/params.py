"""Parameters shared by the routes."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any

from fastapi import Path, Query
from pydantic import AwareDatetime, Field

from domain.calendar import FIRST_YEAR, LAST_YEAR

# Keys are INTEGER columns, 32-bit on PostgreSQL: a larger number in a path would overflow the query
# (a 500) instead of being the 404 or 422 it should be.
MAX_KEY = 2**31 - 1
RowId = Annotated[int, Path(ge=1, le=MAX_KEY)]
VersionQuery = Annotated[int, Query(ge=1, le=MAX_KEY)]
VersionField = Annotated[int, Field(ge=1, le=MAX_KEY)]

# Days and times are bounded to the years the working calendar can hold: at the edges of what Python's
# datetime can hold, a day's neighbour or a time in UTC overflows (a 500 instead of a 422).
FIRST_DAY, LAST_DAY = date(FIRST_YEAR, 1, 1), date(LAST_YEAR, 12, 31)
BOUNDS = f"from {FIRST_DAY} to {LAST_DAY}"
Moment = Annotated[
    AwareDatetime,
    Field(ge=datetime(FIRST_YEAR, 1, 1, tzinfo=UTC), le=datetime(LAST_YEAR, 12, 31, 23, 59, 59, tzinfo=UTC)),
]


def day_query(example: str) -> Any:
    """A day in a query, within the calendar's years."""
    # Query's stubs type the bounds as numbers; pydantic compares dates with them all the same
    return Query(ge=FIRST_DAY, le=LAST_DAY, examples=[example], description=f"a day {BOUNDS}")  # type: ignore[arg-type]
