"""The outbox no longer keeps a sent message's ts (nothing read it).

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    columns = {c["name"] for c in sa.inspect(op.get_bind()).get_columns("outbox")}
    if "sent_ts" in columns:  # a store made by create_all after it was dropped has none
        with op.batch_alter_table("outbox") as batch:
            batch.drop_column("sent_ts")


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("sent_ts", sa.String(30), nullable=True))
