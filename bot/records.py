"""The Store's one-time keys, app locks and audit trail (`Records`, a part of the Store)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from bot.db import Database, aware
from bot.models import AppLock, AuditEntry, Clock
from bot.tables import AuditRow, Claim, LockRow


class Records:
    """What guards against repeats, which apps are locked, and who did what."""

    _db: Database
    _now: Clock

    async def claim(self, key: str) -> bool:
        try:
            async with self._db.transaction() as session:
                session.add(Claim(key=key, created_at=self._now()))
        except IntegrityError:
            return False
        return True

    async def unclaim(self, key: str) -> None:
        """Give a key back when the thing it guarded certainly did not happen."""
        async with self._db.transaction() as session:
            await session.execute(delete(Claim).where(Claim.key == key))

    async def prune(self, *, before: datetime) -> None:
        """Forget what only guarded against repeats, once it is old."""
        async with self._db.transaction() as session:
            await session.execute(delete(Claim).where(Claim.created_at < before))

    async def lock_of(self, app: str) -> AppLock | None:
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

    async def audit(self, entry: AuditEntry) -> None:
        fields = {k: v for k, v in vars(entry).items() if k != "at"}
        async with self._db.transaction() as session:
            session.add(AuditRow(**fields, at=self._now()))

    async def recent(self, app: str, limit: int = 5) -> list[AuditEntry]:
        async with self._db.session() as session:
            rows = await session.scalars(
                select(AuditRow)
                .where(AuditRow.app == app)
                .order_by(AuditRow.id.desc())
                .limit(limit)
            )
            return [
                AuditEntry(
                    user=r.user,
                    action=r.action,
                    app=r.app,
                    channel=r.channel,
                    outcome=r.outcome,
                    deployment_id=r.deployment_id,
                    detail=r.detail,
                    at=aware(r.at),
                )
                for r in rows
            ]
