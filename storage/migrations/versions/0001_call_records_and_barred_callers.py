"""call_records and barred_callers

Revision ID: 0001
Revises:
Create Date: 2024-05-06 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "call_records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uniqueid", sa.String(64), nullable=False),
        sa.Column("caller", sa.String(64), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ivr_path", sa.Text(), nullable=True),
        sa.Column("route_action", sa.String(16), nullable=True),
        sa.Column("queue", sa.String(128), nullable=True),
        sa.Column("priority", sa.Integer(), nullable=True),
        sa.Column("transfer_target", sa.String(64), nullable=True),
        sa.Column("agi_fallback", sa.Boolean(), nullable=False),
        sa.Column("queue_joined_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("wait_seconds", sa.Float(), nullable=True),
        sa.Column("agent", sa.String(128), nullable=True),
        sa.Column("talk_seconds", sa.Float(), nullable=True),
        sa.Column("hangup_cause", sa.String(128), nullable=True),
        sa.Column("hangup_cause_code", sa.Integer(), nullable=True),
        sa.Column("abandoned", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_call_records")),
    )
    op.create_index(op.f("ix_call_records_uniqueid"), "call_records", ["uniqueid"], unique=True)
    op.create_index(op.f("ix_call_records_started_at"), "call_records", ["started_at"])

    op.create_table(
        "barred_callers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(64), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("barred_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("barred_until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_by", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.CheckConstraint("barred_until > barred_from", name=op.f("ck_barred_callers_window")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_barred_callers")),
    )
    op.create_index(op.f("ix_barred_callers_number"), "barred_callers", ["number"])


def downgrade() -> None:
    op.drop_index(op.f("ix_barred_callers_number"), table_name="barred_callers")
    op.drop_table("barred_callers")
    op.drop_index(op.f("ix_call_records_started_at"), table_name="call_records")
    op.drop_index(op.f("ix_call_records_uniqueid"), table_name="call_records")
    op.drop_table("call_records")
