"""An app is held by one row: a unique partial index on the deploy that holds it; and when a
deployment was triggered (DEPLOYBOT_MAX_DURATION counts from then, not from the request).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_RUNNING = ("queued", "building", "deploying")


def upgrade() -> None:
    with op.batch_alter_table("deployments") as batch:
        batch.add_column(
            sa.Column("holds_app", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(sa.Column("triggered_at", sa.DateTime(timezone=True), nullable=True))
    rows = sa.table(
        "deployments",
        sa.column("id", sa.Integer()),
        sa.column("app", sa.String()),
        sa.column("kind", sa.String()),
        sa.column("status", sa.String()),
        sa.column("deployment_id", sa.String()),
        sa.column("waiting", sa.Boolean()),
        sa.column("abandoned", sa.Boolean()),
        sa.column("holds_app", sa.Boolean()),
        sa.column("created_at", sa.DateTime(timezone=True)),
        sa.column("triggered_at", sa.DateTime(timezone=True)),
    )
    # The deploy under way (or waiting for its approval) holds its app: the newest, should two
    # replicas have raced before this schema.
    holding = (
        sa.select(sa.func.max(rows.c.id))
        .where(
            rows.c.kind == "deploy",
            rows.c.status.in_(_RUNNING),
            rows.c.waiting.is_(sa.false()),
            rows.c.abandoned.is_(sa.false()),
        )
        .group_by(rows.c.app)
    )
    op.execute(rows.update().where(rows.c.id.in_(holding)).values(holds_app=True))
    op.execute(
        rows.update()
        .where(rows.c.deployment_id.is_not(None))
        .values(triggered_at=rows.c.created_at)
    )
    op.create_index(
        "ux_deployments_app_held",
        "deployments",
        ["app"],
        unique=True,
        sqlite_where=sa.text("holds_app"),
        postgresql_where=sa.text("holds_app"),
    )


def downgrade() -> None:
    op.drop_index("ux_deployments_app_held", table_name="deployments")
    with op.batch_alter_table("deployments") as batch:
        batch.drop_column("triggered_at")
        batch.drop_column("holds_app")
