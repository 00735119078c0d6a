"""An app is held by one row (`Slots`, a part of the Store): the deploy under way, or waiting
for its approval, has `holds_app` set, and a unique partial index lets one row per app have it.

Taking the app is the write that records the start (a new row, or one leaving the line), before
anything is posted or triggered; the write that ends it (a final status, a discard, a cancel, an
expiry, an abandon) lets it go. While a start runs, its process renews the row's lease: a start
whose lease ran out was cut short by a crash, and the poller recovers it (bot/usecases/recover.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, or_, select, update

from bot.models import Approval, Clock, Kind, Status, Tracked
from bot.store.db import Also, Database
from bot.store.rows import Rows, tracked
from bot.store.tables import TrackedRow

log = logging.getLogger(__name__)


def _untriggered_start() -> ColumnElement[bool]:
    """Holding its app, its trigger under way and not recorded: a start under way (or cut
    short). A deploy waiting for its approver has no `triggered_at` until it is approved."""
    return and_(
        TrackedRow.holds_app.is_(True),
        TrackedRow.deployment_id.is_(None),
        TrackedRow.triggered_at.is_not(None),
    )


def _awaiting_approval() -> ColumnElement[bool]:
    """Waiting for an approver: a Nometria deploy not triggered, or a Stormkit build ready."""
    untriggered = and_(
        TrackedRow.deployment_id.is_(None),
        TrackedRow.triggered_at.is_(None),
        TrackedRow.status == Status.QUEUED.value,
        TrackedRow.waiting.is_(False),
    )
    return and_(
        TrackedRow.approval == Approval.PENDING.value,
        or_(untriggered, TrackedRow.status == Status.READY.value),
    )


@dataclass
class Stuck:
    """Rows nobody will move by themselves (bot/usecases/recover.py moves them)."""

    starts: list[Tracked] = field(default_factory=list)  # cut short by a crash
    stale: list[Tracked] = field(default_factory=list)  # approvals past DEPLOYBOT_APPROVAL_TTL
    unprompted: list[Tracked] = field(default_factory=list)  # prompts that may be lost


class Slots:
    """Which row holds each app, the starts this process runs, and the rows nobody will move
    by themselves."""

    def __init__(self, db: Database, rows: Rows, *, clock: Clock) -> None:
        self._db = db
        self._rows = rows
        self._now = clock
        # The starts this process runs, and the task running each.
        self._under_way: dict[int, asyncio.Task[Any] | None] = {}
        self._none_under_way = asyncio.Event()
        self._none_under_way.set()

    async def take(
        self,
        *,
        app: str,
        provider: str,
        channel: str,
        root_ts: str,
        requester: str,
        ref: str | None,
        approval: Approval | None = None,
        env: Mapping[str, str] | None = None,
        triggering: bool = True,
    ) -> Tracked | None:
        """Record a deploy's start holding its app, before anything is posted or triggered:
        None if another row holds the app (a compare-and-set, across replicas).

        `triggering` (no approver decides first): the trigger follows at once, so it counts as
        triggered now; a crash before it is recorded is recovered by the poller.
        """
        row = self._rows.new(
            Kind.DEPLOY,
            Status.QUEUED,
            approval,
            env,
            app=app,
            provider=provider,
            deployment_id=None,
            channel=channel,
            root_ts=root_ts,
            requester=requester,
            ref=ref,
            default_ref=ref is None,
        )
        row.holds_app = True
        row.triggered_at = row.created_at if triggering else None
        return await self._rows.insert(row)

    async def set_root(self, row_id: int, root_ts: str) -> None:
        """The root of a start recorded before it was posted."""
        await self._rows.change(row_id, {}, {"root_ts": root_ts})

    @contextlib.asynccontextmanager
    async def starting(self, row_id: int) -> AsyncIterator[None]:
        """Keep this start's lease while it runs: only a crash lets it run out. A graceful
        stop waits for it (`starts_done`)."""
        keeper = asyncio.create_task(self._keep(row_id))
        self._under_way[row_id] = asyncio.current_task()
        self._none_under_way.clear()
        try:
            yield
        finally:
            keeper.cancel()
            self._under_way.pop(row_id, None)
            if not self._under_way:
                self._none_under_way.set()

    async def starts_done(self, within: float) -> int:
        """Wait up to `within` seconds for this process's starts to end; how many did not."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(within):
                await self._none_under_way.wait()
        return len(self._under_way)

    async def _keep(self, row_id: int) -> None:
        while True:
            await asyncio.sleep(self._rows.lease.total_seconds() / 3)
            try:
                async with self._db.transaction(first=True) as session:
                    await session.execute(
                        update(TrackedRow)
                        .where(TrackedRow.id == row_id, TrackedRow.owner == self._rows.owner)
                        .values(lease_until=self._now() + self._rows.lease)
                    )
            except Exception:  # a missed renewal is tried again; the start goes on
                log.warning("could not renew the lease of start %s", row_id, exc_info=True)

    async def hand_over_starts(self) -> int:
        """A graceful stop could not finish these starts in time: they stop here, as in a crash
        (their rows untouched), and the poller of any replica recovers them at its next tick
        instead of after their lease."""
        running = [task for task in self._under_way.values() if task is not None]
        for task in running:
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)
        async with self._db.transaction() as session:
            result = await session.execute(
                update(TrackedRow)
                .where(_untriggered_start(), TrackedRow.owner == self._rows.owner)
                .values(owner=None, lease_until=None)
            )
        return int(getattr(result, "rowcount", 0))

    async def stuck(self, approvals_before: datetime) -> Stuck:
        """In one query (the poller asks each tick): starts whose process stopped renewing them
        (or handed them over), approvals asked for (or last shown) before `approvals_before`
        and still undecided, and Nometria deploys waiting for an approver whose prompt Slack
        has no ts for and no live process holds (their prompt may have been lost)."""
        unprompted = and_(
            _awaiting_approval(),
            TrackedRow.deployment_id.is_(None),
            TrackedRow.prompt_ts.is_(None),
            self._rows.unheld(),
        )
        stale = and_(_awaiting_approval(), TrackedRow.updated_at < approvals_before)
        crashed = and_(_untriggered_start(), self._rows.unheld())
        async with self._db.session() as session:
            rows = [
                tracked(row)
                for row in await session.scalars(
                    select(TrackedRow)
                    .where(or_(crashed, stale, unprompted))
                    .order_by(TrackedRow.id)
                )
            ]
        found = Stuck()
        for row in rows:
            if row.holds_app and row.deployment_id is None and row.triggered_at is not None:
                found.starts.append(row)
            elif row.updated_at is not None and row.updated_at < approvals_before:
                found.stale.append(row)
            else:
                found.unprompted.append(row)
        return found

    async def adopt(self, row_id: int, *, deployment_id: str, also: Also) -> bool:
        """A crashed start had triggered this deployment: this replica follows it from its
        next tick, from queued, so each status it reached is said once (once)."""
        values: dict[str, Any] = {"deployment_id": deployment_id, "env": {}} | self._rows.leased()
        return await self._rows.change(row_id, _START_UNDER_WAY, values, also)

    async def not_started(self, row_id: int, *, also: Also) -> bool:
        """A crashed start had triggered nothing: it ends here, its app free (once)."""
        values = {"status": Status.STOPPED.value, "holds_app": False, "env": {}}
        return await self._rows.change(row_id, _START_UNDER_WAY, values, also)

    async def expire(self, row: Tracked, *, also: Also) -> bool:
        """Nobody decided in time: discarded by the clock, its app free if it held it (once)."""
        values: dict[str, Any] = {"approval": Approval.DISCARDED.value, "approved_by": None}
        if row.deployment_id is None:
            values |= {"status": Status.STOPPED.value, "holds_app": False, "env": {}}
        pending = {"approval": Approval.PENDING.value, "status": row.status.value}
        return await self._rows.change(row.id, pending, values, also)

    async def reprompt(self, row_id: int) -> bool:
        """Take the re-posting of a lost prompt (once, for one lease), counting its approval
        from now."""
        async with self._db.transaction() as session:
            result = await session.execute(
                update(TrackedRow)
                .where(TrackedRow.id == row_id, TrackedRow.prompt_ts.is_(None), self._rows.unheld())
                .values(**self._rows.leased(), updated_at=self._now())
            )
        return bool(getattr(result, "rowcount", 0) == 1)


_START_UNDER_WAY: dict[str, Any] = {"deployment_id": None, "holds_app": True}
