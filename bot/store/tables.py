"""The store's tables (the outbox's own table lives in bot/outbox.py)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, DateTime, Float, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from bot.models import Kind
from bot.store.db import Base


class TrackedRow(Base):
    __tablename__ = "deployments"
    # Not unique: a rollback on Stormkit publishes (and follows) an older deployment again.
    __table_args__ = (
        Index("ix_deployments_app_deployment", "app", "deployment_id"),
        Index(
            "ix_deployments_updated_at", "updated_at"
        ),  # what changed since (bot/usecases/figures.py)
        # An app is held by one row: the deploy under way or waiting for its approval. Taking it
        # is inserting (or flagging) that row: a second taker fails on this index, at once on
        # SQLite, once the first commits on PostgreSQL.
        Index(
            "ux_deployments_app_held",
            "app",
            unique=True,
            sqlite_where=text("holds_app"),
            postgresql_where=text("holds_app"),
        ),
    )

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
    # Asked for without a ref: `ref` is the default branch, once known (the provider names it).
    default_ref: Mapped[bool] = mapped_column(default=False)
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
    holds_app: Mapped[bool] = mapped_column(default=False)
    # When the trigger was sent (or about to be): DEPLOYBOT_MAX_DURATION counts from here, and a
    # start a crash interrupted is matched against the provider's deployments made since.
    triggered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
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


class HomeViewerRow(Base):
    """Who opened the Home tab when, and the change (`HomeChanges.generation`) their tab shows
    so far. Shared by the replicas: a change seen by any of them reaches each viewer once."""

    __tablename__ = "home_viewers"

    user: Mapped[str] = mapped_column(String(30), primary_key=True)
    opened_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    drawn: Mapped[int] = mapped_column(default=0)  # the generation their last drawing showed
    drawn_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    notice: Mapped[str | None] = mapped_column(Text)  # what came of their last click there


class HomeChanges(Base):
    """One row: how many changes the Home tab has seen, counted by every replica."""

    __tablename__ = "home_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    generation: Mapped[int] = mapped_column(default=0)


class BudgetRow(Base):
    """A token bucket for a Slack method whose limit is the workspace's, shared by replicas."""

    __tablename__ = "slack_budgets"

    name: Mapped[str] = mapped_column(String(50), primary_key=True)
    level: Mapped[float] = mapped_column(Float)  # tokens spent and not refilled yet
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))  # when `level` was counted


class WatchedApp(Base):
    """An app whose deployments started outside Slack are announced, and when it was last looked
    at: a first look (or a look after a long gap) announces only what is in flight."""

    __tablename__ = "watched_apps"

    app: Mapped[str] = mapped_column(String(100), primary_key=True)
    channel: Mapped[str] = mapped_column(String(30))
    looked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    previous: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class SeenDeployment(Base):
    """A deployment of a watched app the bot has seen (its own, announced, or history): the
    first to insert one announces it, so nothing is announced twice."""

    __tablename__ = "seen_deployments"

    app: Mapped[str] = mapped_column(String(100), primary_key=True)
    deployment_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class StartMark(Base):
    """The bot is asking a provider for a new deployment of an app: until the answer is written
    down as seen, the watcher does not take a new deployment of that app for an outside one."""

    __tablename__ = "starts"

    id: Mapped[int] = mapped_column(primary_key=True)
    app: Mapped[str] = mapped_column(String(100), index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
