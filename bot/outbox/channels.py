"""Which replica delivers a channel's posts, and when its pace lets it post next.

One replica at a time holds a channel (a lease row per channel), so the channel's order and pace
hold across replicas; `not_before` carries the channel's pace (`PostPace`'s `due`) and Slack's
`Retry-After` to whoever holds it next. Channels are taken and let go many at once, in the
transaction that takes or marks their posts: one store round trip for a burst of channels.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import Table, bindparam, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from bot.metrics import HELD_CHANNELS
from bot.models import Clock
from bot.outbox.pace import PostPace
from bot.outbox.table import ChannelLease
from bot.store.db import Database, aware


class ChannelLeases:
    def __init__(self, db: Database, *, clock: Clock, owner: str, seconds: float) -> None:
        self._db = db
        self._now = clock
        self._owner = owner
        self._lease = timedelta(seconds=seconds)  # renewed by the outbox's heartbeat
        self._held: dict[str, datetime] = {}  # channel: until when this replica holds it
        upsert = postgresql.insert if db.engine.dialect.name == "postgresql" else sqlite.insert
        self._insert = upsert

    async def take_all(self, session: AsyncSession, channels: Sequence[str]) -> dict[str, datetime]:
        """Hold those channels no other replica holds (one statement); each with its `due`."""
        now = self._now()
        until = now + self._lease
        free = or_(
            ChannelLease.owner.is_(None),
            ChannelLease.owner == self._owner,
            ChannelLease.lease_until < now,
        )
        statement = (
            self._insert(ChannelLease)
            .values([{"channel": c, "owner": self._owner, "lease_until": until} for c in channels])
            .on_conflict_do_update(
                index_elements=[ChannelLease.channel],
                set_={"owner": self._owner, "lease_until": until},
                where=free,
            )
            .returning(ChannelLease.channel, ChannelLease.not_before)
        )
        taken = {
            row.channel: aware(row.not_before) if row.not_before else now
            for row in await session.execute(statement)
        }
        self._held.update(dict.fromkeys(taken, until))
        HELD_CHANNELS.set(len(self._held))
        return taken

    def holds(self) -> bool:
        return bool(self._held)

    async def renew(self, session: AsyncSession) -> None:
        """The heartbeat: the channels this replica holds stay its own a lease longer."""
        until = self._now() + self._lease
        await session.execute(
            update(ChannelLease).where(ChannelLease.owner == self._owner).values(lease_until=until)
        )
        self._held = dict.fromkeys(self._held, until)

    async def release_all_of(self, session: AsyncSession, dues: Mapping[str, datetime]) -> None:
        """Let these channels go, each with its `due`, in the caller's transaction."""
        if not dues:
            return
        table = cast(Table, ChannelLease.__table__)  # Core: one statement run with many rows
        await session.execute(
            update(table)
            .where(table.c.channel == bindparam("which"), table.c.owner == self._owner)
            .values(owner=None, lease_until=None, not_before=bindparam("due")),
            [{"which": channel, "due": due} for channel, due in dues.items()],
        )
        for channel in dues:
            self._held.pop(channel, None)
        HELD_CHANNELS.set(len(self._held))

    async def spend(self, session: AsyncSession, channel: str, pace: PostPace) -> None:
        """A post went to the channel outside its holder's queue (a root): the row's `due`
        counts it, for whoever holds the channel next."""
        now = self._now()
        due = await session.scalar(
            select(ChannelLease.not_before).where(ChannelLease.channel == channel)
        )
        due = pace.after(aware(due) if due else now, now)
        statement = (
            self._insert(ChannelLease)
            .values(channel=channel, not_before=due)
            .on_conflict_do_update(index_elements=[ChannelLease.channel], set_={"not_before": due})
        )
        await session.execute(statement)

    async def release_all(self) -> None:
        """A graceful stop: every channel this replica holds is free at once."""
        async with self._db.transaction() as session:
            await session.execute(
                update(ChannelLease)
                .where(ChannelLease.owner == self._owner)
                .values(owner=None, lease_until=None)
            )
        self._held.clear()
        HELD_CHANNELS.set(0)
