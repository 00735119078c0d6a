"""A deploy taken out of its line before it started is `cancelled`, a status of its own (it was
`stopped`, like a deployment someone stopped). Nothing changes in the tables; going back, the
older bot reads such a row as it wrote it: stopped.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06
"""

from __future__ import annotations

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass  # rows cancelled before this version stay stopped: nothing recorded which they were


def downgrade() -> None:
    op.execute("UPDATE deployments SET status = 'stopped' WHERE status = 'cancelled'")
