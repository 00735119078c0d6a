"""The outbox's rows as work: which are undelivered, taking some with a lease, marking them.

Posts are taken by channel, oldest first, by whoever holds the channel. Edits are taken across
channels, and only once the posts queued before them in their channel are out (a status change's
reply goes before its root's edit) and no other replica is editing the same message.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, func, or_, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from bot.models import Clock
from bot.outbox.budget import EditBudget
from bot.outbox.retry import Failure, backoff, reported
from bot.outbox.table import OutboxRow, State, Way
from bot.store.db import Database

log = logging.getLogger("bot.outbox")

BATCH = 10  # messages taken at once: fewer writes to the store per message


class Ledger:
    def __init__(
        self, db: Database, *, clock: Clock, owner: str, lease: timedelta, retry_cap: timedelta
    ) -> None:
        self._db = db
        self._now = clock
        self._owner = owner
        self._lease = lease
        self._retry_cap = retry_cap

    def undelivered(self, row: Any = OutboxRow) -> ColumnElement[bool]:
        """Not sent yet: pending, or taken by a replica whose lease ran out (never a root)."""
        expired = (row.state == State.SENDING.value) & (row.lease_until < self._now())
        return and_(row.kind != Way.ROOT.value, or_(row.state == State.PENDING.value, expired))

    def waits(self, row: Any = OutboxRow) -> ColumnElement[bool]:
        """The row's channel has a post backing off after a failure: the channel's posts wait
        for it (none overtakes it); its roots do not."""
        failed = aliased(OutboxRow)
        return exists().where(
            failed.channel == row.channel,
            failed.kind == Way.POST.value,
            failed.state == State.PENDING.value,
            failed.not_before > self._now(),
        )

    async def posts_of(
        self, session: AsyncSession, channels: Sequence[str]
    ) -> dict[str, list[OutboxRow]]:
        """Each channel's oldest undelivered posts (up to BATCH a channel), taken in one
        statement in the caller's transaction, oldest first."""
        ranked = (
            select(
                OutboxRow.id,
                func.row_number()
                .over(partition_by=OutboxRow.channel, order_by=OutboxRow.id)
                .label("place"),
            )
            .where(
                OutboxRow.channel.in_(channels),
                OutboxRow.kind == Way.POST.value,
                self.undelivered(),
                ~self.waits(),
            )
            .subquery()
        )
        oldest = select(ranked.c.id).where(ranked.c.place <= BATCH)
        by_channel: dict[str, list[OutboxRow]] = {}
        for row in await self._lease_rows(session, OutboxRow.id.in_(oldest)):
            by_channel.setdefault(row.channel, []).append(row)
        return by_channel

    async def edits(
        self, most: int, *, sent: list[int], budget: EditBudget
    ) -> tuple[list[OutboxRow], bool]:
        """The edits that may go now of up to `most` messages, oldest first, from any channel,
        as many messages as the workspace's budget pays for (taken from it in the same
        transaction); and whether edits were left only because the budget had no room.

        An edit waits while a post queued before it in its channel is undelivered, and while
        another replica is sending an edit of the same message (so a message's edits land in
        their order). Under PostgreSQL's row locks a replica racing for the same rows re-reads
        them after this one commits and finds them taken; SQLite has one writer at a time.
        """
        edit, post = aliased(OutboxRow), aliased(OutboxRow)
        reply_first = exists().where(
            post.channel == edit.channel,
            post.kind == Way.POST.value,
            post.id < edit.id,
            post.state.in_((State.PENDING.value, State.SENDING.value)),
        )
        may_go = and_(
            edit.kind == Way.UPDATE.value,
            self.undelivered(edit),
            ~reply_first,
            ~self._in_hand(edit),
        )
        retry_at = func.max(edit.not_before)  # a message's edits wait for its back-off
        oldest = (
            select(edit.channel, edit.target_ts)
            .where(may_go)
            .group_by(edit.channel, edit.target_ts)
            .having(or_(retry_at.is_(None), retry_at <= self._now()))
            .order_by(func.min(edit.id))
            .limit(most)
        )
        # Every edit of those messages that may go, so they merge into one edit each. Looked up
        # outside the write transaction (SQLite's one writer waits for no search), then taken
        # by id with the conditions that another replica could have changed checked again.
        async with self._db.session() as session:
            found = list(
                await session.execute(
                    select(edit.id, edit.channel, edit.target_ts)
                    .where(may_go, tuple_(edit.channel, edit.target_ts).in_(oldest))
                    .order_by(edit.id)
                )
            )
        if not found:
            await self.marked(sent, State.SENT)
            sent.clear()
            return [], False
        by_message: dict[tuple[str, str | None], list[int]] = {}
        for row_id, channel, target in found:  # oldest first: messages in their edits' order
            by_message.setdefault((channel, target), []).append(row_id)
        async with self._db.transaction() as session:
            await self.mark(session, sent, State.SENT)
            grant = await budget.grant(session, len(by_message))
            ids = [i for message in list(by_message.values())[: grant.count] for i in message]
            rows = await self._lease_rows(session, OutboxRow.id.in_(ids), ~self._in_hand(OutboxRow))
            await budget.spend(session, grant, len({(r.channel, r.target_ts) for r in rows}))
        sent.clear()
        return rows, grant.count == 0

    def _in_hand(self, edit: Any) -> ColumnElement[bool]:
        """Another replica is sending an edit of the same message."""
        other = aliased(OutboxRow)
        return exists().where(
            other.channel == edit.channel,
            other.target_ts == edit.target_ts,
            other.id != edit.id,
            other.state == State.SENDING.value,
            other.owner != self._owner,
            other.lease_until >= self._now(),
        )

    async def _lease_rows(self, session: AsyncSession, *chosen: Any) -> list[OutboxRow]:
        """Take the chosen rows that are still undelivered (one statement), oldest first."""
        taken = await session.scalars(
            update(OutboxRow)
            .where(*chosen, self.undelivered())
            .values(
                state=State.SENDING.value,
                owner=self._owner,
                lease_until=self._now() + self._lease,
                attempts=OutboxRow.attempts + 1,
                # Taken from a replica whose lease ran out: it may have posted it.
                unsure=or_(OutboxRow.unsure, OutboxRow.state == State.SENDING.value),
            )
            .returning(OutboxRow),
            execution_options={"synchronize_session": False},
        )
        return sorted(taken, key=lambda row: row.id)

    async def renew(self, session: AsyncSession) -> None:
        """The heartbeat: the messages this process is sending stay its own a lease longer."""
        await session.execute(
            update(OutboxRow)
            .where(OutboxRow.state == State.SENDING.value, OutboxRow.owner == self._owner)
            .values(lease_until=self._now() + self._lease)
        )

    async def mark(self, session: AsyncSession, ids: Sequence[int], state: State) -> None:
        if ids:
            await session.execute(
                update(OutboxRow).where(OutboxRow.id.in_(ids)).values(state=state.value)
            )

    async def marked(self, ids: Sequence[int], state: State) -> None:
        """Mark in a transaction of its own."""
        if ids:
            async with self._db.transaction() as session:
                await self.mark(session, ids, state)

    async def given_back(self, session: AsyncSession, ids: Sequence[int]) -> None:
        """Taken and not tried (their channel must wait): pending again, the take not counted."""
        if ids:
            await session.execute(
                update(OutboxRow)
                .where(OutboxRow.id.in_(ids), OutboxRow.owner == self._owner)
                .values(
                    state=State.PENDING.value,
                    owner=None,
                    lease_until=None,
                    attempts=OutboxRow.attempts - 1,
                )
            )

    async def failed(self, row: OutboxRow, covers: list[int], failure: Failure) -> datetime | None:
        """Slack did not take it: failed for good, or pending again after a back-off (and
        Slack's Retry-After); returns when it may be tried again, None if never."""
        retry_in = max(backoff(row.attempts, self._retry_cap), failure.wait)
        reported(failure, way=row.kind, row_id=row.id, channel=row.channel, retry_in=retry_in)
        retry_at = None if failure.final else self._now() + retry_in
        state = State.FAILED if failure.final else State.PENDING
        async with self._db.transaction() as session:
            await session.execute(
                update(OutboxRow)
                .where(OutboxRow.id.in_(covers))
                .values(
                    state=state.value,
                    owner=None,
                    lease_until=None,
                    not_before=retry_at,
                    unsure=failure.unsure,
                )
            )
        return retry_at
