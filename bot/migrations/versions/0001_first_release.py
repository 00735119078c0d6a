"""The store as the first release made it (create_all at commit e1cb689).

Revision ID: 0001
Revises:
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

AWARE = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "deployments",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("app", sa.String(100), nullable=False),
        sa.Column("provider", sa.String(30), nullable=False),
        sa.Column("deployment_id", sa.String(100), nullable=True),
        sa.Column("channel", sa.String(30), nullable=False),
        sa.Column("root_ts", sa.String(30), nullable=False),
        sa.Column("requester", sa.String(30), nullable=False),
        sa.Column("ref", sa.String(255), nullable=True),
        sa.Column("env", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("approval", sa.String(20), nullable=True),
        sa.Column("approved_by", sa.String(30), nullable=True),
        sa.Column("prompt_ts", sa.String(30), nullable=True),
        sa.Column("owner", sa.String(64), nullable=True),
        sa.Column("lease_until", AWARE, nullable=True),
        sa.Column("failing_since", AWARE, nullable=True),
        sa.Column("outage_noticed", sa.Boolean(), nullable=False),
        sa.Column("abandoned", sa.Boolean(), nullable=False),
        sa.Column("created_at", AWARE, nullable=False),
        sa.Column("updated_at", AWARE, nullable=False),
    )
    op.create_index("ix_deployments_app_deployment", "deployments", ["app", "deployment_id"])
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("tracked_id", sa.Integer(), nullable=True),
        sa.Column("channel", sa.String(30), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("thread_ts", sa.String(30), nullable=True),
        sa.Column("target_ts", sa.String(30), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("blocks", sa.JSON(), nullable=False),
        sa.Column("broadcast", sa.Boolean(), nullable=False),
        sa.Column("purpose", sa.String(20), nullable=True),
        sa.Column("state", sa.String(12), nullable=False),
        sa.Column("owner", sa.String(64), nullable=True),
        sa.Column("lease_until", AWARE, nullable=True),
        sa.Column("sent_ts", sa.String(30), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", AWARE, nullable=False),
    )
    op.create_index("ix_outbox_state_channel", "outbox", ["state", "channel"])
    op.create_table(
        "locks",
        sa.Column("app", sa.String(100), primary_key=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("locked_by", sa.String(30), nullable=False),
        sa.Column("channel", sa.String(30), nullable=False),
        sa.Column("created_at", AWARE, nullable=False),
    )
    op.create_table(
        "claims",
        sa.Column("key", sa.String(255), primary_key=True),
        sa.Column("created_at", AWARE, nullable=False),
    )
    op.create_table(
        "audit",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("at", AWARE, nullable=False),
        sa.Column("user", sa.String(30), nullable=False),
        sa.Column("action", sa.String(30), nullable=False),
        sa.Column("app", sa.String(100), nullable=True),
        sa.Column("deployment_id", sa.String(100), nullable=True),
        sa.Column("channel", sa.String(30), nullable=False),
        sa.Column("outcome", sa.String(20), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
    )


def downgrade() -> None:
    for table in ("audit", "claims", "locks", "outbox", "deployments"):
        op.drop_table(table)
