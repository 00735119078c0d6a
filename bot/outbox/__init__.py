"""The only writer to Slack: every message is an outbox row first; delivered in order per
channel, paced, edits merged, never twice."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.blocks import Message
from bot.db import Database
from bot.models import Clock
from bot.notifier import Notifier
from bot.outbox.items import Direct, Edit, Outgoing, Reply
from bot.outbox.merge import merged
from bot.outbox.table import OutboxRow, State, Way

__all__ = ["Also", "Direct", "Edit", "Outbox", "Outgoing", "Reply"]

log = logging.getLogger(__name__)

METADATA_TYPE = "deploybot_notice"
GIVE_UP_AFTER = 5  # attempts; a message Slack keeps refusing is logged, not retried forever
BATCH = 10  # messages a sender takes at once: fewer writes to the store per message
MAX_BLOCKS = 50


Also = Callable[[AsyncSession], None]
PromptSent = Callable[[int, str], Awaitable[None]]


class Outbox:
    def __init__(
        self,
        db: Database,
        notifier: Notifier,
        *,
        clock: Clock,
        owner: str,
        lease_seconds: float = 30.0,
        prompt_sent: PromptSent | None = None,
    ) -> None:
        self._db = db
        self._notifier = notifier
        self._now = clock
        self._owner = owner
        # Longer than a Slack call can take, or a live sender's message could be taken over.
        self._lease = timedelta(seconds=lease_seconds)
        self._prompt_sent = prompt_sent
        self._senders: dict[str, asyncio.Task[None]] = {}

    async def post_now(self, channel: str, message: Message) -> str:
        """Post a new channel message ahead of the queue and return its ts.

        Recorded like any other message, but never sent again by a sweep: if this process
        dies mid-post, the command that needed the ts died with it.
        """
        row = self._row(channel, Way.ROOT, message, state=State.SENDING)
        async with self._db.transaction() as session:
            session.add(row)
        try:
            ts = await self._notifier.post(
                channel, message.text, row.blocks, metadata=_metadata(row.id)
            )
        except Exception:
            await self._mark([row.id], State.FAILED)
            raise
        await self._mark([row.id], State.SENT)
        return ts

    def add(self, items: Iterable[Outgoing]) -> Also:
        """Write these messages in someone else's transaction (a status change's)."""
        rows = [self._of(item) for item in items]
        return lambda session: session.add_all(rows)

    async def send(self, items: Sequence[Outgoing]) -> None:
        """Queue messages and start delivering them (for what needs no compare-and-set)."""
        async with self._db.transaction() as session:
            self.add(items)(session)
        self.kick({item.channel for item in items})

    def kick(self, channels: Iterable[str]) -> None:
        """Make sure a sender runs for each channel; one per channel keeps their order."""
        for channel in channels:
            task = self._senders.get(channel)
            if task is None or task.done():
                self._senders[channel] = asyncio.create_task(self._drain(channel))

    async def sweep(self) -> None:
        """Pick up what a crash, a restart or another replica left undelivered."""
        async with self._db.session() as session:
            channels = await session.scalars(
                select(OutboxRow.channel).where(self._undelivered()).distinct()
            )
            self.kick(list(channels))

    async def idle(self) -> None:
        """Wait until every sender has finished (tests and shutdown)."""
        while running := [t for t in self._senders.values() if not t.done()]:
            await asyncio.gather(*running, return_exceptions=True)

    async def prune(self, *, before: datetime) -> None:
        """Forget delivered (or given-up) messages once they are old; never an undelivered one."""
        done = OutboxRow.state.in_((State.SENT.value, State.FAILED.value))
        async with self._db.transaction() as session:
            await session.execute(
                delete(OutboxRow).where(
                    done | (OutboxRow.kind == Way.ROOT.value), OutboxRow.created_at < before
                )
            )

    async def permalink(self, channel: str, ts: str) -> str | None:
        """A link to a message, to point at a thread from elsewhere; None if Slack cannot say."""
        return await self._notifier.permalink(channel, ts)

    def _of(self, item: Outgoing) -> OutboxRow:
        if isinstance(item, Direct):
            return self._row(item.user, Way.POST, item.message, tracked_id=item.tracked_id)
        if isinstance(item, Edit):
            return self._row(
                item.channel, Way.UPDATE, item.message, tracked_id=item.tracked_id, target=item.ts
            )
        return self._row(
            item.channel,
            Way.POST,
            item.message,
            tracked_id=item.tracked_id,
            thread=item.thread_ts,
            broadcast=item.broadcast,
            purpose="prompt" if item.prompt else None,
        )

    def _row(
        self,
        channel: str,
        way: Way,
        message: Message,
        *,
        state: State = State.PENDING,
        tracked_id: int | None = None,
        thread: str | None = None,
        target: str | None = None,
        broadcast: bool = False,
        purpose: str | None = None,
    ) -> OutboxRow:
        """A row to insert; one being sent right away is leased to this process already."""
        sending = state is State.SENDING
        return OutboxRow(
            tracked_id=tracked_id,
            channel=channel,
            kind=way.value,
            thread_ts=thread,
            target_ts=target,
            text=message.text,
            blocks=[block.to_dict() for block in message.blocks[:MAX_BLOCKS]],
            broadcast=broadcast,
            purpose=purpose,
            state=state.value,
            owner=self._owner if sending else None,
            lease_until=self._now() + self._lease if sending else None,
            attempts=1 if sending else 0,
            created_at=self._now(),
        )

    def _undelivered(self) -> Any:
        expired = (OutboxRow.state == State.SENDING.value) & (OutboxRow.lease_until < self._now())
        return (OutboxRow.kind != Way.ROOT.value) & or_(
            OutboxRow.state == State.PENDING.value, expired
        )

    async def _drain(self, channel: str) -> None:
        while batch := await self._claim(channel):
            sent: list[int] = []
            try:
                for row, covers in merged(batch):
                    try:
                        await self._deliver(row)
                        sent.extend(covers)
                    except SlackApiError as exc:
                        await self._failed(row, covers, exc)
                    except Exception:
                        log.exception("delivering message %s to %s", row.id, channel)
                        await self._failed(row, covers, None)
            finally:
                await self._mark(sent, State.SENT)

    async def _claim(self, channel: str) -> list[OutboxRow]:
        """The oldest undelivered messages of a channel, taken with a lease in one statement.

        Under PostgreSQL's row locks a replica that races for the same rows re-reads them after
        this one commits and finds them taken; SQLite has one writer at a time.
        """
        undelivered = self._undelivered()
        oldest = (
            select(OutboxRow.id)
            .where(OutboxRow.channel == channel, undelivered)
            .order_by(OutboxRow.id)
            .limit(BATCH)
            .scalar_subquery()
        )
        async with self._db.transaction() as session:
            taken = await session.scalars(
                update(OutboxRow)
                .where(OutboxRow.id.in_(oldest), undelivered)
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

    async def _deliver(self, row: OutboxRow) -> None:
        if row.kind == Way.UPDATE:
            await self._notifier.update(row.channel, row.target_ts or "", row.text, row.blocks)
            return
        if row.attempts > 1 and (ts := await self._already_posted(row)) is not None:
            # Posted before a crash, or before its connection dropped: not posted twice.
            await self._posted(row, ts)
            return
        ts = await self._notifier.post(
            row.channel,
            row.text,
            row.blocks,
            thread_ts=row.thread_ts,
            broadcast=row.broadcast,
            metadata=_metadata(row.id),
        )
        await self._posted(row, ts)

    async def _posted(self, row: OutboxRow, ts: str) -> None:
        if row.purpose == "prompt" and row.tracked_id is not None and self._prompt_sent:
            await self._prompt_sent(row.tracked_id, ts)

    async def _already_posted(self, row: OutboxRow) -> str | None:
        """The reply's ts if an earlier attempt posted it; None if not, or if Slack cannot say.

        When the lookup itself fails (rate limited, a token without the history scopes), the
        message is posted anyway: a rare duplicate beats an announcement lost after its attempts.
        """
        if row.thread_ts is None:
            return None
        try:
            return await self._notifier.find_by_metadata(
                row.channel, row.thread_ts, METADATA_TYPE, {"notice": row.id}
            )
        except SlackApiError as exc:
            reason = exc.response.get("error") or f"HTTP {exc.response.status_code}"
        except (aiohttp.ClientError, TimeoutError) as exc:
            reason = type(exc).__name__
        log.warning(
            "cannot tell whether notice %s was already posted in %s (conversations.replies: %s): "
            "posting it, as a rare duplicate beats a lost announcement",
            row.id,
            row.channel,
            reason,
        )
        return None

    async def _mark(self, ids: list[int], state: State) -> None:
        if ids:
            async with self._db.transaction() as session:
                await session.execute(
                    update(OutboxRow).where(OutboxRow.id.in_(ids)).values(state=state.value)
                )

    async def _failed(self, row: OutboxRow, covers: list[int], exc: SlackApiError | None) -> None:
        code = str(exc.response.get("error") or exc.response.status_code) if exc else "unexpected"
        final = row.attempts >= GIVE_UP_AFTER or code in _FINAL_ERRORS
        log.warning("Slack refused message %s in %s: %s", row.id, row.channel, code)
        state = State.FAILED if final else State.PENDING
        async with self._db.transaction() as session:
            await session.execute(
                update(OutboxRow)
                .where(OutboxRow.id.in_(covers))
                .values(state=state.value, lease_until=None)
            )


def _metadata(row_id: int) -> dict[str, Any]:
    return {"event_type": METADATA_TYPE, "event_payload": {"notice": row_id}}


# Retrying cannot help with these: the channel or message is gone, or we are not in it.
_FINAL_ERRORS = frozenset(
    {"channel_not_found", "not_in_channel", "is_archived", "message_not_found", "invalid_blocks"}
)
