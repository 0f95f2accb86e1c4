"""Parameters shared by the routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query
from pydantic import Field

# Keys are INTEGER columns, 32-bit on PostgreSQL: a larger number in a path would overflow the query
# (a 500) instead of being the 404 or 422 it should be.
MAX_KEY = 2**31 - 1
RowId = Annotated[int, Path(ge=1, le=MAX_KEY)]
VersionQuery = Annotated[int, Query(ge=1, le=MAX_KEY)]
VersionField = Annotated[int, Field(ge=1, le=MAX_KEY)]
