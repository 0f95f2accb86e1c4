"""The shapes of the report responses, for the OpenAPI description and for clients."""

from __future__ import annotations

from pydantic import BaseModel, Field


class TicketKpisOut(BaseModel):
    received: int
    on_the_spot_rate: float | None
    completion_rate: float | None = Field(description="办结率")
    timely_rate: float | None = Field(description="及时办理率: closed by the deadline, of those closed")
    satisfaction_rate: float | None
    return_visit_rate: float | None
    average_handling_working_days: float | None


class CallKpisOut(BaseModel):
    calls_queued: int
    calls_answered: int
    connection_rate: float | None = Field(description="接通率")
    answered_within_15s_rate: float | None
    abandonment_rate: float | None
    average_wait_seconds: float | None
    average_talk_seconds: float | None


class KpisOut(BaseModel):
    start: str
    end: str
    unit: str | None
    tickets: TicketKpisOut
    calendar_provisional: bool = Field(description="the range has days of a year whose notice is not entered yet")
    calls: CallKpisOut | None = Field(default=None, description="only for the whole centre (no unit, no type)")


class HotSpotOut(BaseModel):
    type: str
    place: str
    today: int
    yesterday: int
    rise: int


class DailyOut(BaseModel):
    day: str
    received: int
    received_yesterday: int
    top_types: list[tuple[str, int]]
    top_places: list[tuple[str, int]]
    hot_spots: list[HotSpotOut]
    calendar_warnings: list[str]


class DraftsOut(BaseModel):
    start: str
    end: str
    drafts: int
    kept: dict[str, float] = Field(description="per field, the share of drafts whose suggestion the agent kept")
