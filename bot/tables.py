"""The store's tables (the outbox's own table lives in bot/outbox.py)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, DateTime, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bot.db import Base
from bot.models import Kind


class TrackedRow(Base):
    __tablename__ = "deployments"
    # Not unique: a rollback on Stormkit publishes (and follows) an older deployment again.
    __table_args__ = (Index("ix_deployments_app_deployment", "app", "deployment_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), default=Kind.DEPLOY.value)
    app: Mapped[str] = mapped_column(String(100))
    provider: Mapped[str] = mapped_column(String(30))
    # None while a Nometria deploy waits for its approval: nothing is triggered before.
    deployment_id: Mapped[str | None] = mapped_column(String(100))
    channel: Mapped[str] = mapped_column(String(30))
    root_ts: Mapped[str] = mapped_column(String(30))
    requester: Mapped[str] = mapped_column(String(30))
    ref: Mapped[str | None] = mapped_column(String(255))
    env: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(20))
    approval: Mapped[str | None] = mapped_column(String(20))
    approved_by: Mapped[str | None] = mapped_column(String(30))
    prompt_ts: Mapped[str | None] = mapped_column(String(30))
    # Which replica polls it, until when; another takes over once the lease runs out.
    owner: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    failing_since: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    outage_noticed: Mapped[bool] = mapped_column(default=False)
    abandoned: Mapped[bool] = mapped_column(default=False)  # stuck too long: no longer polled
    # In line behind the app's deployment in flight: nothing triggered yet (one at a time).
    waiting: Mapped[bool] = mapped_column(default=False)
    # Break glass: the reason an approver gave to deploy through a freeze or a lock (`--force`).
    forced: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class LockRow(Base):
    __tablename__ = "locks"

    app: Mapped[str] = mapped_column(String(100), primary_key=True)
    reason: Mapped[str] = mapped_column(Text)
    locked_by: Mapped[str] = mapped_column(String(30))
    channel: Mapped[str] = mapped_column(String(30))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Claim(Base):
    """A one-time key: the first to insert it does the thing, everyone after is a duplicate."""

    __tablename__ = "claims"

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class AuditRow(Base):
    __tablename__ = "audit"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    user: Mapped[str] = mapped_column(String(30))
    action: Mapped[str] = mapped_column(String(30))
    app: Mapped[str | None] = mapped_column(String(100))
    deployment_id: Mapped[str | None] = mapped_column(String(100))
    channel: Mapped[str] = mapped_column(String(30))
    outcome: Mapped[str] = mapped_column(String(20))
    detail: Mapped[str] = mapped_column(Text, default="")
