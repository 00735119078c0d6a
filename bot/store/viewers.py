"""Who has the Home tab open, which of them a change has not reached yet, and the views.publish
budget: in the store, so every replica redraws a viewer once per change and all of them
together stay inside Slack's limit for the workspace."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from bot.models import Clock
from bot.store.db import Database, aware
from bot.store.tables import BudgetRow, HomeChanges, HomeViewerRow


@dataclass(frozen=True)
class Bucket:
    """A token bucket: `burst` at once, `per_minute` sustained. Its most in any 60 s is
    burst + per_minute."""

    name: str
    burst: float
    per_minute: float

    @property
    def per_second(self) -> float:
        return self.per_minute / 60


class HomeViewers:
    def __init__(self, db: Database, *, clock: Clock) -> None:
        self._db = db
        self._now = clock
        dialect = db.engine.dialect.name
        self._insert = postgresql.insert if dialect == "postgresql" else sqlite.insert

    async def generation(self) -> int:
        """How many changes there have been: a drawing that starts now shows all of them."""
        async with self._db.session() as session:
            found = await session.scalar(select(HomeChanges.generation))
        return found or 0

    async def changed(self) -> None:
        """A change the tab shows: every recent viewer is behind until drawn again."""
        async with self._db.transaction() as session:
            statement = self._insert(HomeChanges).values(id=1, generation=1)
            await session.execute(
                statement.on_conflict_do_update(
                    index_elements=[HomeChanges.id],
                    set_={"generation": HomeChanges.generation + 1},
                )
            )

    async def opened(self, user: str, generation: int, notice: str | None = None) -> None:
        """They look at it now, drawn now up to `generation`, with this notice."""
        now = self._now()
        fresh = {"opened_at": now, "drawn": generation, "drawn_at": now, "notice": notice}
        statement = self._insert(HomeViewerRow).values(user=user, **fresh)
        async with self._db.transaction() as session:
            await session.execute(
                statement.on_conflict_do_update(index_elements=[HomeViewerRow.user], set_=fresh)
            )

    async def notice_of(self, user: str) -> str | None:
        async with self._db.session() as session:
            return await session.scalar(
                select(HomeViewerRow.notice).where(HomeViewerRow.user == user)
            )

    async def behind(
        self, generation: int, *, since: datetime
    ) -> Sequence[tuple[str, datetime | None]]:
        """Viewers who opened the tab after `since` and whose tab shows less than `generation`:
        who, and when they were last drawn (longest ago first)."""
        async with self._db.session() as session:
            rows = await session.execute(
                select(HomeViewerRow.user, HomeViewerRow.drawn_at)
                .where(HomeViewerRow.opened_at >= since)
                .where(HomeViewerRow.drawn < generation)
                .order_by(HomeViewerRow.drawn_at)
            )
        return [(user, aware(at) if at else None) for user, at in rows]

    async def claim(
        self, users: Sequence[str], generation: int, *, drawn_before: datetime
    ) -> list[str]:
        """Those of `users` still behind `generation` and not drawn since `drawn_before`, marked
        as drawn up to it: theirs to draw (another replica's claim takes them first)."""
        if not users:
            return []
        async with self._db.transaction() as session:
            rows = await session.execute(
                update(HomeViewerRow)
                .where(HomeViewerRow.user.in_(users))
                .where(HomeViewerRow.drawn < generation)
                .where(
                    or_(HomeViewerRow.drawn_at.is_(None), HomeViewerRow.drawn_at <= drawn_before)
                )
                .values(drawn=generation, drawn_at=self._now())
                .returning(HomeViewerRow.user)
            )
            return [user for (user,) in rows]

    async def spend(self, bucket: Bucket, want: int, *, force: bool = False) -> tuple[int, float]:
        """Up to `want` tokens of the shared bucket: how many were granted, and if fewer, the
        seconds until the next one. `force` takes them all, even past the burst (a person is
        waiting for that view: Slack may answer 429, slack_sdk then waits its Retry-After)."""
        while True:
            now = self._now()
            found = await self._read(bucket.name)
            if found is None:
                await self._create(bucket.name, now)
                continue
            level, at = found
            left = max(0.0, level - max(0.0, (now - at).total_seconds()) * bucket.per_second)
            room = want if force else max(0, min(want, int(bucket.burst - left + 1e-9)))
            stamp = max(now, at)  # another replica's clock may be a little ahead
            if await self._swap(bucket.name, (level, at), (left + room, stamp)):
                if room >= want:
                    return room, 0.0
                return room, (left + room + 1 - bucket.burst) / bucket.per_second

    async def _read(self, name: str) -> tuple[float, datetime] | None:
        async with self._db.session() as session:
            row = await session.get(BudgetRow, name)
        return None if row is None else (row.level, aware(row.at))

    async def _create(self, name: str, now: datetime) -> None:
        async with self._db.transaction() as session:
            await session.execute(
                self._insert(BudgetRow)
                .values(name=name, level=0.0, at=now)
                .on_conflict_do_nothing()
            )

    async def _swap(
        self, name: str, old: tuple[float, datetime], new: tuple[float, datetime]
    ) -> bool:
        """Compare-and-set of a bucket's level: another replica's spend in between wins."""
        async with self._db.transaction() as session:
            result = await session.execute(
                update(BudgetRow)
                .where(and_(BudgetRow.name == name, BudgetRow.level == old[0]))
                .where(BudgetRow.at == old[1])
                .values(level=new[0], at=new[1])
            )
        return bool(getattr(result, "rowcount", 0) == 1)
