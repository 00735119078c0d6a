"""Deployments found by when they last changed: /metrics reads only what changed since its last
scrape (bot/usecases/figures.py), an index search rather than a scan of 30 days of rows.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05
"""

from __future__ import annotations

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_deployments_updated_at", "deployments", ["updated_at"])


def downgrade() -> None:
    op.drop_index("ix_deployments_updated_at", table_name="deployments")
