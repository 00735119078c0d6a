"""The workspace's `chat.update` budget, shared by every replica through the store.

Slack counts `chat.update` per app per workspace (Tier 3: 50+ a minute), so two replicas each
editing on a budget of their own would together spend twice the workspace's. The budget is one
row (`rate_budgets`) holding the generic cell rate algorithm's one instant, `due`; a replica
takes shares from it under the row's lock in the transaction that takes the edits they pay for,
and gives none back: an edit taken is an edit paid. A minute's worth may go at once after a
quiet spell, as Slack welcomes sporadic bursts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import Clock
from bot.outbox.pace import PostPace
from bot.outbox.table import RateBudget
from bot.store.db import Database, aware

NAME = "chat.update"


@dataclass(frozen=True)
class Grant:
    """How many edits may go now, and the budget's `due` they were counted from."""

    count: int
    due: datetime | None  # None: no limit


class EditBudget:
    def __init__(self, db: Database, *, clock: Clock, per_minute: float) -> None:
        self._db = db
        self._now = clock
        # Zero: no limit (tests of other things).
        self._pace = (
            PostPace(timedelta(seconds=60 / per_minute), burst=max(1, int(per_minute)))
            if per_minute > 0
            else None
        )
        self._insert = (
            postgresql.insert if db.engine.dialect.name == "postgresql" else sqlite.insert
        )

    async def wait(self) -> float:
        """Seconds until the next edit may go by the shared budget (0: now)."""
        if self._pace is None:
            return 0.0
        async with self._db.session() as session:
            due = await session.scalar(select(RateBudget.due).where(RateBudget.name == NAME))
        now = self._now()
        return (self._pace.earliest(aware(due) if due else now, now) - now).total_seconds()

    async def grant(self, session: AsyncSession, most: int) -> Grant:
        """Lock the budget for the caller's transaction and say how many of `most` may go."""
        if self._pace is None:
            return Grant(most, None)
        now = self._now()
        due = await self._locked(session) or now
        count, paid = 0, due
        while count < most and self._pace.earliest(paid, now) <= now:
            paid, count = self._pace.after(paid, now), count + 1
        return Grant(count, due)

    async def spend(self, session: AsyncSession, grant: Grant, used: int) -> None:
        """Pay for the `used` edits of a grant, in the transaction that took them."""
        if self._pace is None or grant.due is None or not used:
            return
        now, due = self._now(), grant.due
        for _ in range(used):
            due = self._pace.after(due, now)
        await self._set(session, due)

    async def hold(self, wait: timedelta) -> None:
        """Slack's Retry-After on an edit: every replica's edits wait that long."""
        if self._pace is None or wait <= timedelta(0):
            return
        async with self._db.transaction() as session:
            now = self._now()
            due = await self._locked(session) or now
            await self._set(session, max(due, self._pace.hold(now, wait)))

    async def _locked(self, session: AsyncSession) -> datetime | None:
        await session.execute(
            self._insert(RateBudget).values(name=NAME, due=None).on_conflict_do_nothing()
        )
        due = await session.scalar(
            select(RateBudget.due).where(RateBudget.name == NAME).with_for_update()
        )
        return aware(due) if due else None

    async def _set(self, session: AsyncSession, due: datetime) -> None:
        await session.execute(update(RateBudget).where(RateBudget.name == NAME).values(due=due))
