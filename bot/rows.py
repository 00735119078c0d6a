"""Tracked rows read as frozen values, and the queries of one deployment per app at a time
(`Line`, a part of the Store)."""

from __future__ import annotations

from sqlalchemy import and_, or_, select

from bot.db import Database, aware
from bot.models import Approval, Kind, Status, Tracked
from bot.tables import TrackedRow

_FINISHED = [s.value for s in Status if s.finished]


def tracked(row: TrackedRow) -> Tracked:
    return Tracked(
        id=row.id,
        kind=Kind(row.kind),
        app=row.app,
        provider=row.provider,
        deployment_id=row.deployment_id,
        channel=row.channel,
        root_ts=row.root_ts,
        requester=row.requester,
        ref=row.ref,
        status=Status(row.status),
        approval=Approval(row.approval) if row.approval else None,
        approved_by=row.approved_by,
        prompt_ts=row.prompt_ts,
        failing_since=aware(row.failing_since) if row.failing_since else None,
        outage_noticed=row.outage_noticed,
        abandoned=row.abandoned,
        created_at=aware(row.created_at),
        env=dict(row.env or {}),
        waiting=row.waiting,
        forced=row.forced,
        updated_at=aware(row.updated_at),
    )


IN_FLIGHT = (
    TrackedRow.status.not_in(_FINISHED),
    TrackedRow.deployment_id.is_not(None),
    TrackedRow.abandoned.is_(False),
)


class Line:
    """Is an app free to start a deployment, and who waits in its line."""

    _db: Database

    async def busy(self, app: str, *, line: bool = True) -> bool:
        """Is a deployment of `app` under way, waiting for approval, or (`line`) in line?

        A row not yet triggered counts (an approval pending, or a start under way), so two
        starts cannot both see the app free.
        """
        untriggered = [
            TrackedRow.deployment_id.is_(None),
            TrackedRow.status == Status.QUEUED.value,
        ]
        if not line:
            untriggered.append(TrackedRow.waiting.is_(False))
        async with self._db.session() as session:
            found = await session.scalar(
                select(TrackedRow.id)
                .where(
                    TrackedRow.app == app,
                    TrackedRow.abandoned.is_(False),
                    or_(and_(*IN_FLIGHT), and_(*untriggered)),
                )
                .limit(1)
            )
        return found is not None

    async def in_line(self, app: str | None = None) -> list[Tracked]:
        """The deploys waiting their turn (of one app, or all), first in line first."""
        query = select(TrackedRow).where(TrackedRow.waiting.is_(True))
        if app is not None:
            query = query.where(TrackedRow.app == app)
        async with self._db.session() as session:
            rows = await session.scalars(query.order_by(TrackedRow.id))
            return [tracked(row) for row in rows]

    async def in_flight_of(self, app: str) -> list[Tracked]:
        """The app's deployments triggered and not finished."""
        async with self._db.session() as session:
            rows = await session.scalars(
                select(TrackedRow).where(TrackedRow.app == app, *IN_FLIGHT).order_by(TrackedRow.id)
            )
            return [tracked(row) for row in rows]
