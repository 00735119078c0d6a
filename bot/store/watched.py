"""What the store remembers of the apps whose outside deployments are announced: when each was
looked at, which deployments were seen, and the bot's own starts under way."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from bot.models import Clock
from bot.store.db import Database, aware
from bot.store.tables import SeenDeployment, StartMark, TrackedRow, WatchedApp


@dataclass(frozen=True)
class Look:
    """An app whose turn to be looked at came: its announce channel, and when it was last
    looked at before now (None: never, in this channel)."""

    app: str
    channel: str
    previous: datetime | None


class Watched:
    def __init__(self, db: Database, *, clock: Clock) -> None:
        self._db = db
        self._now = clock
        self._insert = (
            postgresql.insert if db.engine.dialect.name == "postgresql" else sqlite.insert
        )

    async def sync(self, channels: Mapping[str, str]) -> None:
        """The apps watched now, each with its channel: one new, or announced elsewhere now,
        is looked at afresh; one no longer watched is forgotten, to start afresh if it is again."""
        async with self._db.transaction() as session:
            await session.execute(delete(WatchedApp).where(WatchedApp.app.not_in(list(channels))))
            if not channels:
                return
            statement = self._insert(WatchedApp).values(
                [{"app": app, "channel": channel} for app, channel in channels.items()]
            )
            await session.execute(
                statement.on_conflict_do_update(
                    index_elements=[WatchedApp.app],
                    set_={
                        "channel": statement.excluded.channel,
                        "looked_at": None,
                        "previous": None,
                    },
                    where=WatchedApp.channel != statement.excluded.channel,
                )
            )

    async def due(self, apps: Collection[str], every: timedelta) -> list[Look]:
        """Take those of `apps` not looked at for `every` (by any replica), in one statement."""
        now = self._now()
        async with self._db.transaction(first=True) as session:
            rows = await session.execute(
                update(WatchedApp)
                .where(
                    WatchedApp.app.in_(list(apps)),
                    or_(WatchedApp.looked_at.is_(None), WatchedApp.looked_at <= now - every),
                )
                .values(previous=WatchedApp.looked_at, looked_at=now)
                .returning(WatchedApp.app, WatchedApp.channel, WatchedApp.previous),
                execution_options={"synchronize_session": False},
            )
            return sorted(
                (Look(r.app, r.channel, aware(r.previous) if r.previous else None) for r in rows),
                key=lambda look: look.app,
            )

    async def starting(self, app: str) -> int:
        """The bot asks a provider for a new deployment of `app` now."""
        row = StartMark(app=app, at=self._now())
        async with self._db.transaction() as session:
            session.add(row)
        return row.id

    async def started(self, start: int, app: str, deployment_ids: Sequence[str]) -> None:
        """The answer came: what it started is the bot's own, in the same transaction as the
        start ends, so no look sees neither."""
        async with self._db.transaction() as session:
            if deployment_ids:
                await session.execute(self._seen(app, deployment_ids).on_conflict_do_nothing())
            await session.execute(delete(StartMark).where(StartMark.id == start))

    async def starting_since(self, app: str, moment: datetime) -> bool:
        """Is a start of `app` under way: a mark begun after `moment` (an older one's process
        died), or a deploy holding the app whose trigger is not recorded yet (bot/store/slots.py),
        which the poller adopts or ends if its process stopped (bot/usecases/recover.py)?"""
        untriggered = select(TrackedRow.id).where(
            TrackedRow.app == app,
            TrackedRow.holds_app.is_(True),
            TrackedRow.deployment_id.is_(None),
            TrackedRow.triggered_at.is_not(None),
        )
        marked = select(StartMark.id).where(StartMark.app == app, StartMark.at > moment)
        async with self._db.session() as session:
            found = await session.scalar(marked.union_all(untriggered).limit(1))
        return found is not None

    async def seen_of(self, app: str, deployment_ids: Collection[str]) -> set[str]:
        async with self._db.session() as session:
            found = await session.scalars(
                select(SeenDeployment.deployment_id).where(
                    SeenDeployment.app == app,
                    SeenDeployment.deployment_id.in_(list(deployment_ids)),
                )
            )
            return set(found)

    async def see(self, app: str, deployment_ids: Sequence[str]) -> None:
        """Remember deployments as seen without announcing them (history, the bot's own)."""
        if deployment_ids:
            async with self._db.transaction() as session:
                await session.execute(self._seen(app, deployment_ids).on_conflict_do_nothing())

    async def claim(self, app: str, deployment_id: str) -> bool:
        """See one deployment first: True for the one caller (of any replica) to announce it."""
        async with self._db.transaction() as session:
            inserted = await session.scalars(
                self._seen(app, [deployment_id])
                .on_conflict_do_nothing()
                .returning(SeenDeployment.deployment_id)
            )
            return inserted.first() is not None

    async def prune(self, *, before: datetime) -> None:
        """Forget what was seen long ago, and starts a dead process left behind. A deployment
        forgotten that is still on the first page is below newer ones seen: never announced."""
        async with self._db.transaction() as session:
            await session.execute(delete(SeenDeployment).where(SeenDeployment.seen_at < before))
            await session.execute(delete(StartMark).where(StartMark.at < before))

    def _seen(self, app: str, deployment_ids: Sequence[str]):  # type: ignore[no-untyped-def]
        now = self._now()
        return self._insert(SeenDeployment).values(
            [
                {"app": app, "deployment_id": d, "seen_at": now}
                for d in dict.fromkeys(deployment_ids)
            ]
        )
