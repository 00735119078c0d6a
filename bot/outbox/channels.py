"""Which replica delivers a channel's messages, and when it may write next.

One replica at a time holds a channel (a lease row per channel), so the channel's order and pace
hold across replicas; `not_before` carries the pace and Slack's `Retry-After` to whoever holds it
next.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_, update
from sqlalchemy.exc import IntegrityError

from bot.db import Database, aware
from bot.metrics import HELD_CHANNELS
from bot.models import Clock
from bot.outbox.table import ChannelLease


class ChannelLeases:
    def __init__(self, db: Database, *, clock: Clock, owner: str, seconds: float) -> None:
        self._db = db
        self._now = clock
        self._owner = owner
        self._lease = timedelta(seconds=seconds)  # longer than a Slack call, renewed after each
        self._held: set[str] = set()

    async def take(self, channel: str) -> datetime | None:
        """Hold the channel; None if another replica does. Returns when it may be written to."""
        now = self._now()
        try:
            async with self._db.transaction() as session:
                session.add(ChannelLease(channel=channel))
        except IntegrityError:
            pass  # its row exists already
        free = or_(
            ChannelLease.owner.is_(None),
            ChannelLease.owner == self._owner,
            ChannelLease.lease_until < now,
        )
        async with self._db.transaction() as session:
            taken = (
                await session.execute(
                    update(ChannelLease)
                    .where(ChannelLease.channel == channel, free)
                    .values(owner=self._owner, lease_until=now + self._lease)
                    .returning(ChannelLease.channel, ChannelLease.not_before),
                    execution_options={"synchronize_session": False},
                )
            ).first()
        if taken is None:
            return None
        self._held.add(channel)
        HELD_CHANNELS.set(len(self._held))
        return aware(taken.not_before) if taken.not_before else now

    async def renew(self, channel: str, *, not_before: datetime) -> None:
        await self._set(channel, owner=self._owner, until=self._now() + self._lease, at=not_before)

    async def release(self, channel: str, *, not_before: datetime) -> None:
        await self._set(channel, owner=None, until=None, at=not_before)
        self._held.discard(channel)
        HELD_CHANNELS.set(len(self._held))

    async def release_all(self) -> None:
        async with self._db.transaction() as session:
            await session.execute(
                update(ChannelLease)
                .where(ChannelLease.owner == self._owner)
                .values(owner=None, lease_until=None)
            )
        self._held.clear()
        HELD_CHANNELS.set(0)

    async def _set(
        self, channel: str, *, owner: str | None, until: datetime | None, at: datetime
    ) -> None:
        async with self._db.transaction() as session:
            await session.execute(
                update(ChannelLease)
                .where(ChannelLease.channel == channel, ChannelLease.owner == self._owner)
                .values(owner=owner, lease_until=until, not_before=at)
            )
