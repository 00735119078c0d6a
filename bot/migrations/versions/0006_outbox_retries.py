"""The outbox retries by message: when a message may be tried again, whether an earlier attempt
may have reached Slack; and the workspace's edit budget, shared by the replicas.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("not_before", sa.DateTime(timezone=True), nullable=True))
        # Rows already there: an attempt was never left unanswered as far as this schema knows.
        batch.add_column(
            sa.Column("unsure", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    op.create_table(
        "rate_budgets",
        sa.Column("name", sa.String(40), primary_key=True),
        sa.Column("due", sa.DateTime(timezone=True), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("rate_budgets")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("unsure")
        batch.drop_column("not_before")
