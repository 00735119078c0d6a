"""Tracked deployments, locks, claims and the audit log: typed queries returning frozen values."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update

from bot.changes import Also, GroupCommit
from bot.db import Database
from bot.models import Approval, Clock, Kind, Status, Tracked
from bot.records import Records
from bot.rows import IN_FLIGHT, Line, tracked
from bot.tables import TrackedRow

__all__ = ["Also", "Store"]


class Store(Line, Records):
    def __init__(
        self, db: Database, *, clock: Clock, owner: str = "", lease_seconds: float = 30.0
    ) -> None:
        self._db = db
        self._now = clock
        self.owner = owner  # the replica that polls what it tracks, until its lease runs out
        self._lease = timedelta(seconds=lease_seconds)
        self._changes = GroupCommit(db, clock=clock)

    # -- deployments -------------------------------------------------------------------------

    async def track(
        self,
        *,
        kind: Kind,
        app: str,
        provider: str,
        deployment_id: str | None,
        channel: str,
        root_ts: str,
        requester: str,
        ref: str | None,
        status: Status,
        approval: Approval | None = None,
        env: Mapping[str, str] | None = None,
        waiting: bool = False,
        forced: str | None = None,
    ) -> Tracked:
        now = self._now()
        row = TrackedRow(
            kind=kind.value,
            app=app,
            provider=provider,
            deployment_id=deployment_id,
            channel=channel,
            root_ts=root_ts,
            requester=requester,
            ref=ref,
            env=dict(env or {}),
            status=status.value,
            approval=approval.value if approval else None,
            waiting=waiting,
            forced=forced,
            owner=self.owner,
            lease_until=now + self._lease,
            created_at=now,
            updated_at=now,
        )
        async with self._db.transaction() as session:
            session.add(row)
        return tracked(row)

    async def get(self, row_id: int) -> Tracked | None:
        async with self._db.session() as session:
            row = await session.get(TrackedRow, row_id)
        return tracked(row) if row else None

    async def find(self, app: str, deployment_id: str) -> Tracked | None:
        """The newest row that follows this deployment."""
        async with self._db.session() as session:
            row = await session.scalar(
                select(TrackedRow)
                .where(TrackedRow.app == app, TrackedRow.deployment_id == deployment_id)
                .order_by(TrackedRow.id.desc())
                .limit(1)
            )
        return tracked(row) if row else None

    async def rows_for(
        self, app: str, deployment_ids: Sequence[str], kind: Kind | None = None
    ) -> dict[str, Tracked]:
        """The first row (of this kind) that followed each of these deployments."""
        kinds = [TrackedRow.kind == kind.value] if kind is not None else []
        async with self._db.session() as session:
            rows = await session.scalars(
                select(TrackedRow)
                .where(TrackedRow.app == app, TrackedRow.deployment_id.in_(deployment_ids), *kinds)
                .order_by(TrackedRow.id.desc())
            )
            return {str(row.deployment_id): tracked(row) for row in rows}

    async def of_app(
        self, app: str, *, since: datetime | None = None, limit: int = 200
    ) -> list[Tracked]:
        """An app's rows, newest first: what the bot started (history, stats, the Home tab)."""
        query = select(TrackedRow).where(TrackedRow.app == app)
        if since is not None:
            query = query.where(TrackedRow.created_at >= since)
        async with self._db.session() as session:
            rows = await session.scalars(query.order_by(TrackedRow.id.desc()).limit(limit))
            return [tracked(row) for row in rows]

    async def since(self, moment: datetime) -> list[Tracked]:
        """Every app's rows asked for since `moment`, oldest first (the figures in /metrics)."""
        async with self._db.session() as session:
            rows = await session.scalars(
                select(TrackedRow).where(TrackedRow.created_at >= moment).order_by(TrackedRow.id)
            )
            return [tracked(row) for row in rows]

    async def in_flight(self) -> list[Tracked]:
        async with self._db.session() as session:
            rows = await session.scalars(
                select(TrackedRow).where(*IN_FLIGHT).order_by(TrackedRow.id)
            )
            return [tracked(row) for row in rows]

    # -- one deployment per app at a time: the queries are in rows.Line -------------------

    async def leave_line(
        self, row_id: int, *, status: Status, approval: Approval | None = None
    ) -> bool:
        """Take a deploy out of the line once (to start it, or it ends there): True if won."""
        values: dict[str, object] = {"waiting": False, "status": status.value}
        if approval is not None:
            values["approval"] = approval.value
        if status.finished:
            values["env"] = {}
        return await self._change(row_id, {"waiting": True}, values)

    async def lease(self, owner: str, *, seconds: float) -> list[Tracked]:
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

    async def advance(
        self, row_id: int, *, expected: Status, new: Status, bypassed: bool, also: Also
    ) -> bool:
        """Compare-and-set the status, and write what to say about it, in one transaction.

        Only one caller wins a change; its messages are in the outbox before anyone can see the
        new status, so a crash between the two can neither lose nor double them. `bypassed`:
        it went live while its approval was pending. Changes made within a few milliseconds of
        each other share their transaction (bot/changes.py), each with its own compare-and-set.
        """
        values: tuple[tuple[str, str], ...] = (("status", new.value),)
        if bypassed:
            values += (("approval", Approval.BYPASSED.value),)
        return await self._changes.change(row_id, expected=expected.value, values=values, also=also)

    async def decide(self, row_id: int, *, decision: Approval, user: str) -> bool:
        """Settle a pending approval once: a second click, or a concurrent one, gets False."""
        pending = {"approval": Approval.PENDING.value}
        return await self._change(
            row_id, pending, {"approval": decision.value, "approved_by": user}
        )

    async def reopen(self, row_id: int, *, decision: Approval) -> None:
        """Undo a decision whose action failed, so someone can try again."""
        values = {"approval": Approval.PENDING.value, "approved_by": None}
        await self._change(row_id, {"approval": decision.value}, values)

    async def triggered(self, row_id: int, *, deployment_id: str, status: Status) -> None:
        """An approved Nometria deploy was triggered: its overrides are no longer kept."""
        values: dict[str, object] = {"deployment_id": deployment_id, "status": status.value}
        values["env"] = {}
        await self._change(row_id, {}, values)

    async def requeue(self, row_id: int) -> None:
        """Restarted: following starts again from queued."""
        await self._change(row_id, {}, {"status": Status.QUEUED.value})

    async def drop_untriggered(self, row_id: int) -> None:
        """Discarded before anything was triggered: it ends here, overrides forgotten."""
        await self._change(row_id, {}, {"status": Status.STOPPED.value, "env": {}})

    async def set_prompt_ts(self, row_id: int, ts: str) -> None:
        await self._change(row_id, {}, {"prompt_ts": ts})

    async def failing(self, row_id: int, since: datetime | None) -> None:
        """When its provider first failed to answer (None: it answers)."""
        await self._change(row_id, {}, {"failing_since": since})

    async def outage(self, row_id: int, *, noticed: bool, also: Also) -> bool:
        """Say an outage began (or ended) once; its end also forgets when it began."""
        values: dict[str, object] = {"outage_noticed": noticed}
        if not noticed:
            values["failing_since"] = None
        return await self._change(row_id, {"outage_noticed": not noticed}, values, also)

    async def abandon(self, row_id: int, *, also: Also) -> bool:
        """Stop following a deployment stuck too long, saying so once."""
        return await self._change(row_id, {"abandoned": False}, {"abandoned": True}, also)

    async def _change(
        self,
        row_id: int,
        expected: dict[str, Any],
        values: dict[str, Any],
        also: Also | None = None,
    ) -> bool:
        conditions = [getattr(TrackedRow, key) == value for key, value in expected.items()]
        async with self._db.transaction() as session:
            result = await session.execute(
                update(TrackedRow)
                .where(TrackedRow.id == row_id, *conditions)
                .values(**values, updated_at=self._now())
            )
            won = bool(getattr(result, "rowcount", 0) == 1)
            if won and also is not None:
                also(session)
            return won
