"""Which apps are locked, by whom and why (`Locks`, a part of the Store)."""

from __future__ import annotations

from sqlalchemy import delete

from bot.models import AppLock, Clock
from bot.store.db import Database
from bot.store.tables import LockRow


class Locks:
    """An app's lock: at most one, kept until someone unlocks it."""

    def __init__(self, db: Database, *, clock: Clock) -> None:
        self._db = db
        self._now = clock

    async def get(self, app: str) -> AppLock | None:
        async with self._db.session() as session:
            row = await session.get(LockRow, app)
        return AppLock(row.app, row.reason, row.locked_by, row.channel) if row else None

    async def lock(self, app: str, *, reason: str, user: str, channel: str) -> None:
        row = LockRow(
            app=app, reason=reason, locked_by=user, channel=channel, created_at=self._now()
        )
        async with self._db.transaction() as session:
            await session.merge(row)

    async def unlock(self, app: str) -> bool:
        async with self._db.transaction() as session:
            result = await session.execute(delete(LockRow).where(LockRow.app == app))
        return bool(getattr(result, "rowcount", 0))
