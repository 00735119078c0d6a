"""Which replica polls each deployment in flight (`Leases`, a part of the Store): a replica
holds what it polls for a while, renews it each tick, and gives it up when it stops."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import or_, update

from bot.models import Clock, Tracked
from bot.store.db import Database
from bot.store.rows import IN_FLIGHT, tracked
from bot.store.tables import TrackedRow


class Leases:
    def __init__(self, db: Database, *, clock: Clock) -> None:
        self._db = db
        self._now = clock

    async def take(self, owner: str, *, seconds: float) -> list[Tracked]:
        """Take (or keep) the in-flight deployments no live replica holds, for `seconds`.

        One UPDATE: under PostgreSQL's row locks a concurrent replica re-reads each row after
        this one commits, so a row is never held by two replicas at once.
        """
        now = self._now()
        free = or_(
            TrackedRow.owner.is_(None), TrackedRow.owner == owner, TrackedRow.lease_until < now
        )
        async with self._db.transaction(first=True) as session:
            rows = await session.scalars(
                update(TrackedRow)
                .where(*IN_FLIGHT, free)
                .values(owner=owner, lease_until=now + timedelta(seconds=seconds))
                .returning(TrackedRow),
                execution_options={"synchronize_session": False},
            )
            return sorted((tracked(row) for row in rows), key=lambda row: row.id)

    async def renew(self, owner: str, *, seconds: float) -> None:
        """Hold what this replica polls for `seconds` more (a long tick keeps its leases)."""
        async with self._db.transaction(first=True) as session:
            await session.execute(
                update(TrackedRow)
                .where(*IN_FLIGHT, TrackedRow.owner == owner)
                .values(lease_until=self._now() + timedelta(seconds=seconds))
            )

    async def release(self, owner: str) -> int:
        """Give up what this replica polls (a graceful stop): the next tick anywhere takes it."""
        async with self._db.transaction() as session:
            result = await session.execute(
                update(TrackedRow)
                .where(*IN_FLIGHT, TrackedRow.owner == owner)
                .values(owner=None, lease_until=None)
            )
        return int(getattr(result, "rowcount", 0))
