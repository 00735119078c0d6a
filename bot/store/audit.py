"""Who did what, to which app, and what came of it (`AuditTrail`, a part of the Store)."""

from __future__ import annotations

from sqlalchemy import select

from bot.models import AuditEntry, Clock
from bot.store.db import Database, aware
from bot.store.tables import AuditRow


class AuditTrail:
    def __init__(self, db: Database, *, clock: Clock) -> None:
        self._db = db
        self._now = clock

    async def write(self, entry: AuditEntry) -> None:
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
