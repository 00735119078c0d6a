"""The outbox's rows as work: which are undelivered, taking some with a lease, marking them.

Posts are taken by channel, oldest first, by whoever holds the channel. Edits are taken across
channels, and only once the posts queued before them in their channel are out (a status change's
reply goes before its root's edit) and no other replica is editing the same message.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from slack_sdk.errors import SlackApiError
from sqlalchemy import ColumnElement, and_, exists, func, or_, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from bot.db import Database
from bot.models import Clock
from bot.outbox.slack import FINAL_ERRORS
from bot.outbox.table import OutboxRow, State, Way

log = logging.getLogger("bot.outbox")

GIVE_UP_AFTER = 5  # attempts; a message Slack keeps refusing is logged, not retried forever
BATCH = 10  # messages taken at once: fewer writes to the store per message


class Ledger:
    def __init__(self, db: Database, *, clock: Clock, owner: str, lease: timedelta) -> None:
        self._db = db
        self._now = clock
        self._owner = owner
        self._lease = lease

    def undelivered(self, row: Any = OutboxRow) -> ColumnElement[bool]:
        """Not sent yet: pending, or taken by a replica whose lease ran out (never a root)."""
        expired = (row.state == State.SENDING.value) & (row.lease_until < self._now())
        return and_(row.kind != Way.ROOT.value, or_(row.state == State.PENDING.value, expired))

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
            )
            .subquery()
        )
        oldest = select(ranked.c.id).where(ranked.c.place <= BATCH)
        by_channel: dict[str, list[OutboxRow]] = {}
        for row in await self._lease_rows(session, OutboxRow.id.in_(oldest)):
            by_channel.setdefault(row.channel, []).append(row)
        return by_channel

    async def edits(self, most: int, *, sent: list[int]) -> list[OutboxRow]:
        """The edits that may go now of up to `most` messages, oldest first, from any channel.

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
        oldest = (
            select(edit.channel, edit.target_ts)
            .where(may_go)
            .group_by(edit.channel, edit.target_ts)
            .order_by(func.min(edit.id))
            .limit(most)
        )
        # Every edit of those messages that may go, so they merge into one edit each. Looked up
        # outside the write transaction (SQLite's one writer waits for no search), then taken
        # by id with the conditions that another replica could have changed checked again.
        async with self._db.session() as session:
            ids = list(
                await session.scalars(
                    select(edit.id).where(may_go, tuple_(edit.channel, edit.target_ts).in_(oldest))
                )
            )
        if not ids:
            await self.marked(sent, State.SENT)
            sent.clear()
            return []
        return await self._take(ids, sent=sent, also=~self._in_hand(OutboxRow))

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

    async def _take(
        self, ids: list[int], *, sent: list[int], also: ColumnElement[bool]
    ) -> list[OutboxRow]:
        async with self._db.transaction() as session:
            await self.mark(session, sent, State.SENT)
            rows = await self._lease_rows(session, OutboxRow.id.in_(ids), also)
        sent.clear()
        return rows

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
            )
            .returning(OutboxRow),
            execution_options={"synchronize_session": False},
        )
        return sorted(taken, key=lambda row: row.id)

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

    async def failed(self, row: OutboxRow, covers: list[int], exc: SlackApiError | None) -> None:
        """Slack refused it: pending again for another attempt, or failed for good."""
        code = str(exc.response.get("error") or exc.response.status_code) if exc else "unexpected"
        final = row.attempts >= GIVE_UP_AFTER or code in FINAL_ERRORS
        log.warning("Slack refused message %s in %s: %s", row.id, row.channel, code)
        state = State.FAILED if final else State.PENDING
        async with self._db.transaction() as session:
            await session.execute(
                update(OutboxRow)
                .where(OutboxRow.id.in_(covers))
                .values(state=state.value, lease_until=None)
            )
