"""IVR flow versions and their audit trail

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-08
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('ivr_versions',
    sa.Column('number', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('source', sa.Text(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('number', name=op.f('pk_ivr_versions'))
    )
    op.create_table('ivr_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.Column('action', sa.String(length=16), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.CheckConstraint("action IN ('draft', 'publish', 'rollback')", name=op.f('ck_ivr_events_action')),
    sa.ForeignKeyConstraint(['version'], ['ivr_versions.number'], name=op.f('fk_ivr_events_version_ivr_versions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ivr_events'))
    )
    with op.batch_alter_table('ivr_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ivr_events_version'), ['version'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('ivr_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ivr_events_version'))

    op.drop_table('ivr_events')
    op.drop_table('ivr_versions')
