"""Posting: one sender per channel, at the channel's pace, while this replica holds it."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime, timedelta

from slack_sdk.errors import SlackApiError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import Clock
from bot.notifier import Notifier
from bot.outbox.channels import ChannelLeases
from bot.outbox.ledger import BATCH, Ledger
from bot.outbox.pace import PostPace
from bot.outbox.slack import already_posted, metadata, retry_after
from bot.outbox.table import OutboxRow, State

log = logging.getLogger("bot.outbox")

PromptSent = Callable[[int, str], Awaitable[None]]


class Posting:
    def __init__(
        self,
        ledger: Ledger,
        channels: ChannelLeases,
        notifier: Notifier,
        *,
        clock: Clock,
        pace: PostPace,
        delivered: Callable[[], None],
        prompt_sent: PromptSent | None,
    ) -> None:
        self._ledger = ledger
        self._channels = channels
        self._notifier = notifier
        self._now = clock
        self._pace = pace
        self._delivered = delivered  # posts went out: edits queued behind them may follow
        self._prompt_sent = prompt_sent
        self._senders: dict[str, asyncio.Task[None]] = {}
        self._again: set[str] = set()
        self._due: dict[str, datetime] = {}  # the channels held here: their pace so far

    def kick(self, channels: Iterable[str]) -> None:
        """Make sure a sender runs for each channel; one per channel keeps their order."""
        for channel in channels:
            task = self._senders.get(channel)
            if task is None or task.done():
                self._senders[channel] = asyncio.create_task(self._drain(channel))
            else:
                self._again.add(channel)  # it may be past its last look: it looks once more

    def running(self) -> list[asyncio.Task[None]]:
        return [task for task in self._senders.values() if not task.done()]

    async def _drain(self, channel: str) -> None:
        """Post a channel's messages while this replica holds the channel, in their order.

        Store round trips: one to hold the channel, one per batch taken (which also marks the
        batch before it sent), one to let it go with the last batch marked.
        """
        while True:
            self._again.discard(channel)
            due = await self._channels.take(channel)
            if due is None:
                return  # another replica delivers it; the next sweep looks again
            self._due[channel] = due
            sent: list[int] = []
            try:
                while batch := await self._ledger.posts(channel, sent=sent):
                    await self._post_all(channel, batch, sent)
                    everything = len(batch) < BATCH and len(sent) == len(batch)
                    if everything and channel not in self._again:
                        break  # all there was is out; what was queued since kicked us again
            finally:
                due = self._due.pop(channel)
                await self._channels.release(channel, due=due, also=self._marker(sent))
                self._delivered()
            if channel not in self._again:
                return

    async def root_posted(self, session: AsyncSession, channel: str) -> None:
        """A root went to the channel ahead of the queue: it counts against the channel's pace
        all the same (Slack counts every post), here or in the channel's row."""
        if channel in self._due:
            self._due[channel] = self._pace.after(self._due[channel], self._now())
        else:
            await self._channels.spend(session, channel, self._pace)

    def _marker(self, sent: list[int]) -> Callable[[AsyncSession], Awaitable[None]]:
        async def mark(session: AsyncSession) -> None:
            await self._ledger.mark(session, sent, State.SENT)

        return mark

    async def _post_all(self, channel: str, batch: list[OutboxRow], sent: list[int]) -> None:
        """Post a batch at the channel's pace (its `due` kept in `self._due` as it goes)."""
        for row in batch:
            wait = self._pace.earliest(self._due[channel], self._now()) - self._now()
            if wait.total_seconds() > 0:
                await asyncio.sleep(wait.total_seconds())  # the pace, or Retry-After: the point
            hold = timedelta(0)
            try:
                await self._post(row)
                sent.append(row.id)
            except SlackApiError as exc:
                await self._ledger.failed(row, [row.id], exc)
                hold = retry_after(exc)
            except Exception:
                log.exception("delivering message %s to %s", row.id, channel)
                await self._ledger.failed(row, [row.id], None)
            due = self._pace.after(self._due[channel], self._now())  # a refusal counts too
            if hold:
                due = max(due, self._pace.hold(self._now(), hold))
            self._due[channel] = due
            await self._channels.keep(channel)

    async def _post(self, row: OutboxRow) -> None:
        if row.attempts > 1 and (ts := await already_posted(self._notifier, row)) is not None:
            # Posted before a crash, or before its connection dropped: not posted twice.
            await self._posted(row, ts)
            return
        ts = await self._notifier.post(
            row.channel,
            row.text,
            row.blocks,
            thread_ts=row.thread_ts,
            broadcast=row.broadcast,
            metadata=metadata(row.id),
        )
        await self._posted(row, ts)

    async def _posted(self, row: OutboxRow, ts: str) -> None:
        if row.purpose == "prompt" and row.tracked_id is not None and self._prompt_sent:
            await self._prompt_sent(row.tracked_id, ts)
