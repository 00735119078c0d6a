"""One deployment per app at a time (`Line`, a part of the Store): is the app free, who waits
their turn, and a deploy leaving the line."""

from __future__ import annotations

from sqlalchemy import and_, or_, select
from sqlalchemy.exc import IntegrityError

from bot.models import Approval, Clock, Kind, Status, Tracked
from bot.store.db import Database
from bot.store.rows import IN_FLIGHT, Rows, tracked
from bot.store.tables import TrackedRow


class Line:
    """Is an app free to start a deployment, who waits in its line, and leaving it."""

    def __init__(self, db: Database, rows: Rows, *, clock: Clock) -> None:
        self._db = db
        self._rows = rows
        self._now = clock

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
                    or_(TrackedRow.holds_app.is_(True), and_(*IN_FLIGHT), and_(*untriggered)),
                )
                .limit(1)
            )
        return found is not None

    async def waiting(self, app: str | None = None) -> list[Tracked]:
        """The deploys waiting their turn (of one app, or all), first in line first."""
        query = select(TrackedRow).where(TrackedRow.waiting.is_(True))
        if app is not None:
            query = query.where(TrackedRow.app == app)
        async with self._db.session() as session:
            rows = await session.scalars(query.order_by(TrackedRow.id))
            return [tracked(row) for row in rows]

    async def at_root(self, channel: str, root_ts: str) -> Tracked | None:
        """The deploy a root message in `channel` follows."""
        async with self._db.session() as session:
            row = await session.scalar(
                select(TrackedRow)
                .where(
                    TrackedRow.channel == channel,
                    TrackedRow.root_ts == root_ts,
                    TrackedRow.kind == Kind.DEPLOY.value,
                )
                .order_by(TrackedRow.id.desc())
                .limit(1)
            )
            return tracked(row) if row is not None else None

    async def in_flight_of(self, app: str) -> list[Tracked]:
        """The app's deployments triggered and not finished."""
        async with self._db.session() as session:
            rows = await session.scalars(
                select(TrackedRow).where(TrackedRow.app == app, *IN_FLIGHT).order_by(TrackedRow.id)
            )
            return [tracked(row) for row in rows]

    async def leave(
        self,
        row_id: int,
        *,
        status: Status,
        approval: Approval | None = None,
        triggering: bool = False,
    ) -> bool:
        """Take a deploy out of the line once (to start it, or it ends there): True if won.

        Starting it takes its app (False if another row holds it); `triggering` (no approver
        decides first) counts it as triggered now, under this process's lease.
        """
        values: dict[str, object] = {"waiting": False, "status": status.value}
        if approval is not None:
            values["approval"] = approval.value
        if status.finished:
            values["env"] = {}
        else:
            values |= self._rows.leased() | {"holds_app": True}
            if triggering:
                values["triggered_at"] = self._now()
        try:
            return await self._rows.change(row_id, {"waiting": True}, values)
        except IntegrityError:
            return False
