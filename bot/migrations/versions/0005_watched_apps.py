"""Deployments started outside Slack are announced: what was seen of each watched app.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "watched_apps",
        sa.Column("app", sa.String(100), primary_key=True),
        sa.Column("channel", sa.String(30), nullable=False),
        sa.Column("looked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("previous", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_table(
        "seen_deployments",
        sa.Column("app", sa.String(100), primary_key=True),
        sa.Column("deployment_id", sa.String(100), primary_key=True),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "starts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("app", sa.String(100), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_starts_app", "starts", ["app"])


def downgrade() -> None:
    op.drop_index("ix_starts_app", table_name="starts")
    op.drop_table("starts")
    op.drop_table("seen_deployments")
    op.drop_table("watched_apps")
