"""ORM tables. Every timestamp is stored in UTC and read back as an aware UTC datetime."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    false,
    func,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from routing.departments import MAX_LENGTHS


class UtcDateTime(TypeDecorator[datetime]):
    """timestamptz on PostgreSQL; on SQLite, which keeps no offset, the UTC wall time."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: pass an aware datetime")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(column_0_label)s",
            "uq": "uq_%(table_name)s_%(column_0_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )
    type_annotation_map: dict[Any, Any] = {datetime: UtcDateTime()}


class CallRecordRow(Base):
    __tablename__ = "call_records"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uniqueid: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    caller: Mapped[str | None] = mapped_column(String(64))
    started_at: Mapped[datetime | None] = mapped_column(index=True)
    ivr_path: Mapped[str | None] = mapped_column(Text)
    route_action: Mapped[str | None] = mapped_column(String(16))
    queue: Mapped[str | None] = mapped_column(String(128))
    priority: Mapped[int | None] = mapped_column(Integer)
    transfer_target: Mapped[str | None] = mapped_column(String(64))
    agi_fallback: Mapped[bool] = mapped_column(Boolean, default=False)
    queue_joined_at: Mapped[datetime | None]
    answered_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    wait_seconds: Mapped[float | None] = mapped_column(Float)
    agent: Mapped[str | None] = mapped_column(String(128))
    talk_seconds: Mapped[float | None] = mapped_column(Float)
    hangup_cause: Mapped[str | None] = mapped_column(String(128))
    hangup_cause_code: Mapped[int | None] = mapped_column(Integer)
    abandoned: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())


class BarredCallerRow(Base):
    """A caller barred from 12345 (harassment etc.) for [barred_from, barred_until)."""

    __tablename__ = "barred_callers"
    __table_args__ = (CheckConstraint("barred_until > barred_from", name="window"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(64), index=True)
    reason: Mapped[str] = mapped_column(Text)
    barred_from: Mapped[datetime]
    barred_until: Mapped[datetime]
    decided_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())


class UserRow(Base):
    """A person who signs in to the API: agent, supervisor, admin, or a department's user."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[str] = mapped_column(String(16))
    unit_code: Mapped[str | None] = mapped_column(String(32))
    display_name: Mapped[str] = mapped_column(String(128))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())


class ApiTokenRow(Base):
    """A bearer token, stored as its SHA-256 so a database leak gives no working token."""

    __tablename__ = "api_tokens"

    token_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]


class DepartmentRow(Base):
    """A member unit of the dispatch network: level 2 (departments, districts, utilities) or
    level 3 (streets, sub-units) under a level-2 parent."""

    __tablename__ = "departments"

    code: Mapped[str] = mapped_column(String(MAX_LENGTHS["code"]), primary_key=True)
    name: Mapped[str] = mapped_column(String(MAX_LENGTHS["name"]))
    duties: Mapped[str] = mapped_column(Text)
    parent_code: Mapped[str | None] = mapped_column(ForeignKey("departments.code"), index=True)
    keywords: Mapped[list[str]] = mapped_column(JSON, default=list)
    level: Mapped[int] = mapped_column(Integer)
    phone: Mapped[str | None] = mapped_column(String(20))


class KnowledgeEntryRow(Base):
    __tablename__ = "knowledge_entries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    question: Mapped[str] = mapped_column(String(500))
    answer: Mapped[str] = mapped_column(Text)
    keywords: Mapped[list[str]] = mapped_column(JSON, default=list)
    department_code: Mapped[str | None] = mapped_column(String(32))
    valid_from: Mapped[date | None] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    retired: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime]


class TicketRow(Base):
    """A work order (工单). `state` holds the whole domain ticket; the columns beside it are
    projections of it for lookups, lists and reports, written in the same transaction."""

    __tablename__ = "tickets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(16), unique=True)
    status: Mapped[str] = mapped_column(String(24), index=True)
    request_type: Mapped[str] = mapped_column(String(16), index=True)
    urgent: Mapped[bool] = mapped_column(Boolean)
    channel: Mapped[str] = mapped_column(String(16))
    caller_number: Mapped[str | None] = mapped_column(String(32), index=True)
    district: Mapped[str | None] = mapped_column(String(64))
    street: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(index=True)
    deadline_at: Mapped[datetime | None]
    # When the deadline warning (预警) is due, and whether the deadline was counted on a year the
    # working calendar does not have confirmed yet (it moves when the year's notice is entered).
    warning_at: Mapped[datetime | None]
    deadline_provisional: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    closed_at: Mapped[datetime | None]
    satisfaction: Mapped[str | None] = mapped_column(String(24))
    state: Mapped[dict[str, Any]] = mapped_column(JSON)
    version: Mapped[int] = mapped_column(Integer)
    # The intake receipt of a ticket recorded through the API: a ticket kept while the database was
    # down and replayed later is recognised by it and never stored twice.
    receipt: Mapped[str | None] = mapped_column(String(36), unique=True, index=True)

    __mapper_args__ = {"version_id_col": version}


class TicketUnitRow(Base):
    """Which units a ticket has been dispatched to (any level), for department users' views."""

    __tablename__ = "ticket_units"

    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True)
    unit_code: Mapped[str] = mapped_column(String(32), primary_key=True, index=True)


class TicketAuditRow(Base):
    """Append-only trail of every change to a ticket: rows are inserted, never updated or deleted."""

    __tablename__ = "ticket_audit"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_number: Mapped[str] = mapped_column(String(16), index=True)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(32))
    from_status: Mapped[str | None] = mapped_column(String(24))
    to_status: Mapped[str] = mapped_column(String(24))
    note: Mapped[str | None] = mapped_column(Text)


class TicketSequenceRow(Base):
    """Last ticket sequence number used on each day (ticket numbers are date + sequence)."""

    __tablename__ = "ticket_sequences"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    last: Mapped[int] = mapped_column(Integer)


class CallbackTaskRow(Base):
    """A callback (回拨) the centre owes a caller. One task per (reason, call): call records
    replayed from the spool create nothing new. `attempts` holds the task's attempts in order."""

    __tablename__ = "callback_tasks"
    __table_args__ = (UniqueConstraint("reason", "call_uniqueid"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    caller_number: Mapped[str] = mapped_column(String(32), index=True)
    reason: Mapped[str] = mapped_column(String(16))
    call_uniqueid: Mapped[str | None] = mapped_column(String(64))
    ticket_number: Mapped[str | None] = mapped_column(String(16))
    queue: Mapped[str | None] = mapped_column(String(128))
    status: Mapped[str] = mapped_column(String(16), index=True)
    created_at: Mapped[datetime]
    due_at: Mapped[datetime] = mapped_column(index=True)
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_at: Mapped[datetime | None]
    attempts: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    cancelled_by: Mapped[str | None] = mapped_column(String(64))
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    finished_at: Mapped[datetime | None]
    version: Mapped[int] = mapped_column(Integer)

    __mapper_args__ = {"version_id_col": version}


class TranscriptRow(Base):
    """What a caller said in one audio stream (a call, or a voice message), once transcribed; the
    audio stays on disk at `audio_path`."""

    __tablename__ = "transcripts"

    stream_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    call_uniqueid: Mapped[str] = mapped_column(String(64), index=True)
    caller: Mapped[str | None] = mapped_column(String(64))
    purpose: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text)
    audio_path: Mapped[str] = mapped_column(Text)
    sample_rate: Mapped[int] = mapped_column(Integer)
    audio_seconds: Mapped[float] = mapped_column(Float)
    started_at: Mapped[datetime]
    source: Mapped[str] = mapped_column(String(16))  # live | catch_up
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())


class CallDraftRow(Base):
    """The draft ticket made from a call's speech, as last suggested, and what the agent changed of
    it when they made the ticket (so the drafts' accuracy can be measured)."""

    __tablename__ = "call_drafts"

    call_uniqueid: Mapped[str] = mapped_column(String(64), primary_key=True)
    caller: Mapped[str | None] = mapped_column(String(64))
    draft: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[datetime]
    ticket_number: Mapped[str | None] = mapped_column(String(16))
    changes: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class IvrVersionRow(Base):
    """A version of the IVR flow, its YAML source as the admin wrote it; never changed once stored."""

    __tablename__ = "ivr_versions"

    number: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    source: Mapped[str] = mapped_column(Text)
    note: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]


class IvrEventRow(Base):
    """Append-only trail of IVR flow versions drafted, published and rolled back to; the version of
    the latest publish or rollback is the live one."""

    __tablename__ = "ivr_events"
    __table_args__ = (CheckConstraint("action IN ('draft', 'publish', 'rollback')", name="action"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(16))
    version: Mapped[int] = mapped_column(ForeignKey("ivr_versions.number"), index=True)
    detail: Mapped[str] = mapped_column(Text)


class CalendarNoticeRow(Base):
    """A version of one year's holiday notice (national or local), as imported, with who imported it,
    when and from which file; never changed once stored. The latest version of each (year, scope)
    is in force."""

    __tablename__ = "calendar_notices"
    __table_args__ = (
        UniqueConstraint("year", "scope", "version"),
        CheckConstraint("scope IN ('national', 'local')", name="scope"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    year: Mapped[int] = mapped_column(Integer, index=True)
    scope: Mapped[str] = mapped_column(String(16))
    version: Mapped[int] = mapped_column(Integer)
    document: Mapped[dict[str, Any]] = mapped_column(JSON)
    source_file: Mapped[str] = mapped_column(String(255))
    source_sha256: Mapped[str] = mapped_column(String(64))
    imported_by: Mapped[str] = mapped_column(String(64))
    imported_at: Mapped[datetime]
    note: Mapped[str] = mapped_column(Text)
