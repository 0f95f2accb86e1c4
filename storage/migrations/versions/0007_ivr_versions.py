"""IVR flow versions and their audit trail

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-08
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APPEND_ONLY = ("ivr_versions", "ivr_events")


def upgrade() -> None:
    op.create_table(
        "ivr_versions",
        sa.Column("number", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("number", name=op.f("pk_ivr_versions")),
    )
    op.create_table(
        "ivr_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.CheckConstraint("action IN ('draft', 'publish', 'rollback')", name=op.f("ck_ivr_events_action")),
        sa.ForeignKeyConstraint(["version"], ["ivr_versions.number"], name=op.f("fk_ivr_events_version_ivr_versions")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ivr_events")),
    )
    with op.batch_alter_table("ivr_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ivr_events_version"), ["version"], unique=False)

    # Who changed the IVR, and what each version said, cannot be rewritten: append-only in the database.
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION ivr_append_only() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION '% is append-only', TG_TABLE_NAME; END $$"
        )
        for table in APPEND_ONLY:
            op.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION ivr_append_only()"
            )
    else:
        for table in APPEND_ONLY:
            for event in ("UPDATE", "DELETE"):
                op.execute(
                    f"CREATE TRIGGER {table}_no_{event.lower()} BEFORE {event} ON {table} "
                    f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
                )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in APPEND_ONLY:
            op.execute(f"DROP TRIGGER {table}_append_only ON {table}")
        op.execute("DROP FUNCTION ivr_append_only()")
    with op.batch_alter_table("ivr_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ivr_events_version"))

    op.drop_table("ivr_events")
    op.drop_table("ivr_versions")
