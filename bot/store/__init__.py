"""Tracked deployments, locks, claims and the audit log: typed queries returning frozen values."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from sqlalchemy import case, func, select

from bot.models import Approval, Clock, Kind, Status, Tracked
from bot.sealed import Sealer
from bot.store.audit import AuditTrail
from bot.store.changes import GroupCommit
from bot.store.claims import Claims
from bot.store.db import Also, Database
from bot.store.leases import Leases
from bot.store.line import Line
from bot.store.locks import Locks
from bot.store.rows import IN_FLIGHT, Rows, tracked
from bot.store.slots import Slots
from bot.store.tables import TrackedRow

__all__ = ["Store"]


class Store:
    """A deployment's rows; its parts: `line` (one deployment per app at a time), `slots` (the
    row holding each app, starts under way, rows stuck), `leases` (which replica polls what),
    `claims` (one-time keys), `locks` and `audit`."""

    def __init__(
        self,
        db: Database,
        *,
        clock: Clock,
        owner: str = "",
        lease_seconds: float = 30.0,
        sealer: Sealer | None = None,
    ) -> None:
        self._db = db
        self._sealer = sealer or Sealer()
        self._now = clock
        lease = timedelta(seconds=lease_seconds)
        rows = Rows(db, clock=clock, owner=owner, lease=lease, sealer=self._sealer)
        self._rows = rows
        self._changes = GroupCommit(db, clock=clock)
        self.line = Line(db, rows, clock=clock)
        self.slots = Slots(db, rows, clock=clock)
        self.leases = Leases(db, clock=clock)
        self.claims = Claims(db, clock=clock)
        self.locks = Locks(db, clock=clock)
        self.audit = AuditTrail(db, clock=clock)

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
        default_ref: bool = False,
    ) -> Tracked:
        """A row of a deployment to follow (`default_ref`: a deploy asked for without a ref)."""
        row = self._rows.new(
            kind,
            status,
            approval,
            env,
            app=app,
            provider=provider,
            deployment_id=deployment_id,
            channel=channel,
            root_ts=root_ts,
            requester=requester,
            ref=ref,
            waiting=waiting,
            forced=forced,
            default_ref=default_ref,
        )
        taken = await self._rows.insert(row)
        assert taken is not None  # only a row that holds its app can be refused
        return taken

    def overrides(self, row: Tracked) -> dict[str, str]:
        """The KEY=VALUE overrides `row` keeps while it waits, opened to be sent (Unreadable if
        they were sealed by another key, or by a process without a key that stopped)."""
        return self._sealer.open(row.env)

    @property
    def keeps_overrides(self) -> bool:
        """Whether overrides outlive this process (DEPLOYBOT_SECRET_KEY), so a deploy that
        waits may carry them."""
        return self._sealer.lasting

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

    async def changed_since(self, moment: datetime) -> list[Tracked]:
        """Every app's rows written or changed since `moment` (an index search: /metrics)."""
        async with self._db.session() as session:
            rows = await session.scalars(
                select(TrackedRow).where(TrackedRow.updated_at >= moment)  # no order: no scan
            )
            return [tracked(row) for row in rows]

    async def in_flight(self) -> list[Tracked]:
        async with self._db.session() as session:
            rows = await session.scalars(
                select(TrackedRow).where(*IN_FLIGHT).order_by(TrackedRow.id)
            )
            return [tracked(row) for row in rows]

    async def advance(
        self, row_id: int, *, expected: Status, new: Status, bypassed: bool, also: Also
    ) -> bool:
        """Compare-and-set the status, and write what to say about it, in one transaction.

        Only one caller wins a change; its messages are in the outbox before anyone can see the
        new status, so a crash between the two can neither lose nor double them. `bypassed`:
        it went live while its approval was pending. Changes made within a few milliseconds of
        each other share their transaction (bot/store/changes.py), each with its own
        compare-and-set.
        """
        values: tuple[tuple[str, str | bool], ...] = (("status", new.value),)
        if bypassed:
            values += (("approval", Approval.BYPASSED.value),)
        if new.finished:  # its end lets its app go, in the same transaction
            values += (("holds_app", False),)
        return await self._changes.change(row_id, expected=expected.value, values=values, also=also)

    async def decide(self, row_id: int, *, decision: Approval, user: str) -> bool:
        """Settle a pending approval once: a second click, or a concurrent one, gets False.

        Approving starts the trigger or publish now (DEPLOYBOT_MAX_DURATION counts from here),
        under this process's lease; discarding lets the app go.
        """
        pending = {"approval": Approval.PENDING.value}
        values: dict[str, object] = {"approval": decision.value, "approved_by": user}
        if decision is Approval.APPROVED:
            values |= self._rows.leased() | {"triggered_at": self._now()}
        else:
            values["holds_app"] = False
        return await self._rows.change(row_id, pending, values)

    async def reopen(self, row_id: int, *, decision: Approval) -> None:
        """Undo a decision whose action failed, so someone can try again (a deploy not triggered
        waits for its approver again, no start under way)."""
        untriggered = TrackedRow.deployment_id.is_(None)
        values = {
            "approval": Approval.PENDING.value,
            "approved_by": None,
            "triggered_at": case((untriggered, None), else_=TrackedRow.triggered_at),
        }
        await self._rows.change(row_id, {"approval": decision.value}, values)

    async def triggered(
        self, row_id: int, *, deployment_id: str, status: Status, ref: str | None = None
    ) -> bool:
        """A deploy was triggered: its overrides are no longer kept; a deploy asked without a
        ref learns the one the provider chose (`ref`). False if a recovery ended it meanwhile
        (its process had stopped renewing it)."""
        values: dict[str, object] = {"deployment_id": deployment_id, "status": status.value}
        values |= {"env": {}, "triggered_at": func.coalesce(TrackedRow.triggered_at, self._now())}
        values |= self._rows.leased()  # polled by the replica that started it
        if ref is not None:
            values["ref"] = func.coalesce(TrackedRow.ref, ref)
        untriggered = {"deployment_id": None, "status": Status.QUEUED.value}
        return await self._rows.change(row_id, untriggered, values)

    async def rerun(self, row: Tracked) -> Tracked:
        """Restarted: a new row follows the new run from queued, in the same thread, for the
        same requester; `row` keeps the run that failed (ended as failed now, if it was still
        followed: the provider restarts only a failed deployment)."""
        if not row.status.finished:
            values = {"status": Status.FAILED.value, "holds_app": False}
            await self._rows.change(row.id, {"status": row.status.value}, values)
        return await self.track(
            kind=Kind.RESTART if row.kind is Kind.ROLLBACK else row.kind,
            app=row.app,
            provider=row.provider,
            deployment_id=row.deployment_id,
            channel=row.channel,
            root_ts=row.root_ts,
            requester=row.requester,
            ref=row.ref,
            status=Status.QUEUED,
            # A build that failed before its approver decided still waits for one.
            approval=Approval.PENDING if row.pending else None,
        )

    async def drop_untriggered(self, row_id: int) -> None:
        """Discarded before anything was triggered: it ends here, overrides forgotten."""
        values = {"status": Status.STOPPED.value, "env": {}, "holds_app": False}
        await self._rows.change(row_id, {}, values)

    async def set_prompt_ts(self, row_id: int, ts: str) -> None:
        await self._rows.change(row_id, {}, {"prompt_ts": ts})

    async def failing(self, row_id: int, since: datetime | None) -> None:
        """When its provider first failed to answer (None: it answers)."""
        await self._rows.change(row_id, {}, {"failing_since": since})

    async def outage(self, row_id: int, *, noticed: bool, also: Also) -> bool:
        """Say an outage began (or ended) once; its end also forgets when it began."""
        values: dict[str, object] = {"outage_noticed": noticed}
        if not noticed:
            values["failing_since"] = None
        return await self._rows.change(row_id, {"outage_noticed": not noticed}, values, also)

    async def abandon(self, row_id: int, *, also: Also) -> bool:
        """Stop following a deployment stuck too long, saying so once."""
        values = {"abandoned": True, "holds_app": False}
        return await self._rows.change(row_id, {"abandoned": False}, values, also)
