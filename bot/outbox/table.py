"""The outbox's table: a row per message to send or edit to make, written before it is sent."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, DateTime, Index, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column

from bot.store.db import Base


class State(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


class Way(StrEnum):
    ROOT = "root"  # a new message in the channel, sent at once: its ts is needed right away
    POST = "post"  # a thread reply
    UPDATE = "update"  # an edit of a message already there


class OutboxRow(Base):
    """A message to send or an edit to make in Slack, recorded before it is sent."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_state_channel", "state", "channel"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tracked_id: Mapped[int | None] = mapped_column()
    channel: Mapped[str] = mapped_column(String(30))
    kind: Mapped[str] = mapped_column(String(10))  # a Way
    thread_ts: Mapped[str | None] = mapped_column(String(30))
    target_ts: Mapped[str | None] = mapped_column(String(30))  # the message an update edits
    text: Mapped[str] = mapped_column(Text)
    blocks: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    broadcast: Mapped[bool] = mapped_column(default=False)
    purpose: Mapped[str | None] = mapped_column(String(20))  # "prompt": remember its ts
    state: Mapped[str] = mapped_column(String(12), default=State.PENDING.value)
    owner: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    attempts: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # An edit that Slack failed to take waits until then (a post's channel waits instead).
    not_before: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # An earlier attempt may have reached Slack (a crash, a dropped connection, a 5xx): the
    # next one looks for the message before posting it.
    unsure: Mapped[bool] = mapped_column(default=False, server_default=false())


class RateBudget(Base):
    """A rate shared by the replicas (the workspace's `chat.update`): `due` is when the calls
    made so far are paid for (the generic cell rate algorithm's one instant)."""

    __tablename__ = "rate_budgets"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    due: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ChannelLease(Base):
    """Which replica delivers a channel's messages, until when, and its next write's earliest."""

    __tablename__ = "channel_leases"

    channel: Mapped[str] = mapped_column(String(30), primary_key=True)
    owner: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The pace after the last write, or Slack's Retry-After: honoured by whoever holds it next.
    not_before: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
