"""Posting: a sender per channel, at the channel's pace, while this replica holds the channel.

The store sees bursts, not channels: every channel kicked while a transaction was under way is
held, and its posts taken, in the next one; every channel whose sender finished meanwhile has its
posts marked and is let go in one more. So 200 channels each with a reply to post cost a few
transactions, not 600 (a group commit; SQLite has one writer).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import Clock
from bot.outbox.channels import ChannelLeases
from bot.outbox.ledger import BATCH, Ledger
from bot.outbox.pace import PostPace
from bot.outbox.retry import FIRST_RETRY, Verdict, judge
from bot.outbox.slack import Deferred, Lookups, metadata
from bot.outbox.table import OutboxRow, State
from bot.outbox.writer import Writer
from bot.store.db import Database

log = logging.getLogger("bot.outbox")

PromptSent = Callable[[int, str], Awaitable[None]]
# Waits out the pace: asyncio.sleep, or in tests a clock that moves when waited on.
Sleep = Callable[[float], Awaitable[None]]
# Slack refused a message's content for good (invalid_blocks, msg_too_long...): the row and
# Slack's error code, for a plain-text fallback to say what it had to say.
Refused = Callable[[OutboxRow, str], Awaitable[None]]


# A channel's turn is held through a wait up to this long (its pace); a longer one (Slack's
# Retry-After) lets the channel go and comes back for it.
HOLD_IN_TURN = timedelta(seconds=2)


@dataclass
class _Progress:
    """How far a sender got through its batch."""

    sent: list[int] = field(default_factory=list)
    back: list[int] = field(default_factory=list)  # taken, not tried: the channel must wait
    retry_at: datetime | None = None  # when the channel is looked at again, if it must wait


@dataclass(frozen=True)
class _Finished:
    channel: str
    progress: _Progress
    due: datetime
    more: bool  # a full batch: the channel is looked at again


class Posting:
    def __init__(
        self,
        db: Database,
        ledger: Ledger,
        channels: ChannelLeases,
        notifier: Writer,
        *,
        clock: Clock,
        pace: PostPace,
        delivered: Callable[[], None],
        prompt_sent: PromptSent | None,
        refused: Refused | None,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self._db = db
        self._sleep = sleep
        self._ledger = ledger
        self._channels = channels
        self._notifier = notifier
        self._now = clock
        self._pace = pace
        self._delivered = delivered  # posts went out: edits queued behind them may follow
        self._prompt_sent = prompt_sent
        self._refused = refused
        self._lookups = Lookups(notifier)
        self._timers: dict[str, asyncio.TimerHandle] = {}  # channels waiting: when to look again
        self._wanted: set[str] = set()  # channels to look at in the next taking
        self._senders: dict[str, asyncio.Task[None]] = {}  # held here, being posted to
        self._again: set[str] = set()  # kicked while their sender ran
        self._finished: list[_Finished] = []
        self._due: dict[str, datetime] = {}  # the channels held here: their pace so far
        self._turns: dict[str, asyncio.Lock] = {}  # one post in flight per channel, here
        self._root_due: dict[str, datetime] = {}  # channels not held here: their roots' pace
        self._taking: asyncio.Task[None] | None = None
        self._settling: asyncio.Task[None] | None = None

    def kick(self, channels: Iterable[str]) -> None:
        """Post what was queued for these channels; one sender per channel keeps their order."""
        for channel in channels:
            (self._again if channel in self._senders else self._wanted).add(channel)
        if self._wanted and (self._taking is None or self._taking.done()):
            self._taking = asyncio.create_task(self._take_all())

    def running(self) -> list[asyncio.Task[None]]:
        tasks = [*self._senders.values(), self._taking, self._settling]
        return [task for task in tasks if task is not None and not task.done()]

    @asynccontextmanager
    async def root_turn(self, channel: str) -> AsyncIterator[None]:
        """A root's turn in its channel: one post at a time in a channel in this process,
        roots and replies alike, each when the channel's pace allows (ten `/deploy` in one
        channel at once would otherwise meet Slack's 429s, and fail after its retries)."""
        async with self._turn(channel):
            due = self._due.get(channel) or self._root_due.get(channel) or self._now()
            wait = self._pace.earliest(due, self._now()) - self._now()
            if wait.total_seconds() > 0:
                await self._sleep(wait.total_seconds())  # the channel's pace: the point
            yield
        if (paid := self._root_due.get(channel)) is not None and paid < self._now():
            del self._root_due[channel]  # paid up: the channel's row says the same

    def _turn(self, channel: str) -> asyncio.Lock:
        return self._turns.setdefault(channel, asyncio.Lock())

    async def root_posted(self, session: AsyncSession, channel: str) -> None:
        """A root went to the channel ahead of its queue: it counts against the channel's pace
        all the same (Slack counts every post), from when Slack answered (never earlier than
        Slack counted it): in memory (the channel's sender here, or this process's next take
        of it), and in the channel's row for whoever holds it next, in the transaction that
        marks the root sent."""
        now = self._now()
        if channel in self._due:
            self._due[channel] = self._pace.after(self._due[channel], now)
            return  # the sender lets the channel go with it
        self._root_due[channel] = self._pace.after(self._root_due.get(channel, now), now)
        await self._channels.spend(session, channel, self._pace)

    async def _take_all(self) -> None:
        """Hold every wanted channel no other replica holds, and take their posts: one
        transaction for all that were kicked while the last one ran."""
        while wanted := sorted(self._wanted - self._senders.keys()):
            self._again |= self._wanted & self._senders.keys()  # their senders look again
            self._wanted.clear()
            try:
                async with self._db.transaction() as session:
                    held = await self._channels.take_all(session, wanted)
                    posts = await self._ledger.posts_of(session, list(held)) if held else {}
                    idle = {c: due for c, due in held.items() if c not in posts}
                    await self._channels.release_all_of(session, idle)  # nothing to post
            except Exception:
                log.exception("taking the posts of %s channels", len(wanted))
                return  # the next sweep looks again
            for channel, batch in posts.items():
                # The row, or this process's roots posted while it was being taken: the later.
                self._due[channel] = max(held[channel], self._root_due.pop(channel, held[channel]))
                self._senders[channel] = asyncio.create_task(self._send(channel, batch))

    async def _send(self, channel: str, batch: list[OutboxRow]) -> None:
        progress = _Progress()
        try:
            await self._post_all(channel, batch, progress)
        except Exception:
            log.exception("delivering the messages of %s", channel)
            # Given back, not left in hand (the heartbeat would keep them here for ever).
            done = {*progress.sent, *progress.back}
            progress.back += [row.id for row in batch if row.id not in done]
            progress.retry_at = self._now() + FIRST_RETRY
        finally:
            more = len(batch) >= BATCH and progress.retry_at is None
            self._finished.append(_Finished(channel, progress, self._due[channel], more))
            if self._settling is None or self._settling.done():
                self._settling = asyncio.create_task(self._settle_all())

    async def _settle_all(self) -> None:
        """Mark what was posted and let the channels go: one transaction for every channel
        whose sender finished while the last one ran."""
        while self._finished:
            done, self._finished = self._finished, []
            try:
                async with self._db.transaction() as session:
                    sent = [i for d in done for i in d.progress.sent]
                    await self._ledger.mark(session, sent, State.SENT)
                    await self._ledger.given_back(
                        session, [i for d in done for i in d.progress.back]
                    )
                    await self._channels.release_all_of(session, {d.channel: d.due for d in done})
            except Exception:
                log.exception("marking the posts of %s channels", len(done))
            for finished in done:
                self._senders.pop(finished.channel, None)
                due = self._due.pop(finished.channel, finished.due)
                if due > self._now():  # the roots posted next here keep to it
                    self._root_due[finished.channel] = due
                if (retry_at := finished.progress.retry_at) is not None:
                    self._again.discard(finished.channel)
                    self._later(finished.channel, retry_at)
                elif finished.more or finished.channel in self._again:
                    self._again.discard(finished.channel)
                    self._wanted.add(finished.channel)
            self._delivered()
            self.kick(())

    def _later(self, channel: str, at: datetime) -> None:
        """Look at a waiting channel again when its wait is over (a sweep may come first)."""
        delay = max((at - self._now()).total_seconds(), 0.0)
        if (timer := self._timers.get(channel)) is not None:
            if timer.when() <= asyncio.get_running_loop().time() + delay:
                return
            timer.cancel()
        self._timers[channel] = asyncio.get_running_loop().call_later(delay, self._wake, channel)

    def _wake(self, channel: str) -> None:
        self._timers.pop(channel, None)
        self.kick([channel])

    def stop_waiting(self) -> None:
        """Forget the channels waiting here: whoever sweeps next picks them up (a stop)."""
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()

    async def _post_all(self, channel: str, batch: list[OutboxRow], progress: _Progress) -> None:
        """Post a batch in order at the channel's pace (its `due` kept in `self._due` as it
        goes); at the first message Slack does not take, the rest wait with it."""
        for index, row in enumerate(batch):
            async with self._turn(channel):  # a root may be going to the channel just now
                wait = self._pace.earliest(self._due[channel], self._now()) - self._now()
                if wait > HOLD_IN_TURN:  # Slack's Retry-After: the channel goes, comes back
                    progress.back = [later.id for later in batch[index:]]
                    progress.retry_at = self._now() + wait
                    return
                if wait.total_seconds() > 0:
                    await self._sleep(wait.total_seconds())  # the pace: the point
                retry_at = await self._attempt(row, progress)
                if retry_at is not None:
                    progress.back = [later.id for later in batch[index + 1 :]]
                    progress.retry_at = retry_at
                    return

    async def _attempt(self, row: OutboxRow, progress: _Progress) -> datetime | None:
        """Post one message; when it must be tried again, when (None: posted, or never)."""
        channel = row.channel
        try:
            await self._post(row)
        except Deferred as exc:  # the look-up before it: nothing was posted
            retry_at = await self._ledger.failed(row, [row.id], exc.failure)
            self._due[channel] = max(
                self._due[channel], self._pace.hold(self._now(), exc.failure.wait)
            )
            return retry_at
        except Exception as exc:  # noqa: BLE001 - judged: transient ones are tried again
            failure = judge(exc)
            retry_at = await self._ledger.failed(row, [row.id], failure)
            due = self._pace.after(self._due[channel], self._now())  # a refusal counts too
            self._due[channel] = max(due, self._pace.hold(self._now(), failure.wait))
            if failure.verdict is Verdict.REFUSED and self._refused is not None:
                await self._fall_back(row, failure.reason)
            return retry_at
        progress.sent.append(row.id)
        self._due[channel] = self._pace.after(self._due[channel], self._now())
        return None

    async def _fall_back(self, row: OutboxRow, reason: str) -> None:
        assert self._refused is not None
        try:
            await self._refused(row, reason)
        except Exception:
            log.exception("the fallback of message %s in %s", row.id, row.channel)

    async def _post(self, row: OutboxRow) -> None:
        if row.unsure and (ts := await self._lookups.posted(row)) is not None:
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
            queued=True,
        )
        await self._posted(row, ts)

    async def _posted(self, row: OutboxRow, ts: str) -> None:
        if row.purpose == "prompt" and row.tracked_id is not None and self._prompt_sent:
            await self._prompt_sent(row.tracked_id, ts)
