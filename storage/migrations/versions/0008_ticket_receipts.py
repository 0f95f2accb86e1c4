"""ticket intake receipts

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A unique index rather than a constraint: SQLite adds it in place, where a constraint would make
    # alembic rebuild the table (and ticket_units' ON DELETE CASCADE would empty that table).
    op.add_column("tickets", sa.Column("receipt", sa.String(length=36), nullable=True))
    op.create_index("ix_tickets_receipt", "tickets", ["receipt"], unique=True)


def downgrade() -> None:
    op.drop_index("ix_tickets_receipt", table_name="tickets")
    op.drop_column("tickets", "receipt")
