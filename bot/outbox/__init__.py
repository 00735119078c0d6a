"""The only writer to Slack: every message is an outbox row first; posts delivered in order
per channel at the channel's pace, edits on the workspace's budget and merged, never twice."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import Clock
from bot.outbox.budget import EditBudget
from bot.outbox.channels import ChannelLeases
from bot.outbox.edits import Editing
from bot.outbox.items import Direct, Edit, Outgoing, Reply
from bot.outbox.ledger import Ledger
from bot.outbox.pace import PostPace
from bot.outbox.posts import Posting, PromptSent, Refused, Sleep
from bot.outbox.retry import RETRY_CAP
from bot.outbox.slack import metadata
from bot.outbox.table import OutboxRow, State, Way
from bot.outbox.writer import Writer
from bot.render.blocks import Message
from bot.store.db import Also, Database

__all__ = ["Direct", "Edit", "Outbox", "Outgoing", "Refused", "Reply"]

log = logging.getLogger("bot.outbox")


class Outbox:
    def __init__(
        self,
        db: Database,
        notifier: Writer,
        *,
        clock: Clock,
        owner: str,
        lease_seconds: float = 30.0,
        pace: float = 0.0,
        burst: int = 3,
        edits_per_minute: float = 0.0,
        retry_cap: float = RETRY_CAP.total_seconds(),
        prompt_sent: PromptSent | None = None,
        refused: Refused | None = None,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self._db = db
        self._notifier = notifier
        self._now = clock
        self._owner = owner
        # Renewed by the heartbeat while this process lives: a crashed one's run out after it.
        self._lease = timedelta(seconds=lease_seconds)
        self._edits_queued = False
        self._ledger = Ledger(
            db, clock=clock, owner=owner, lease=self._lease, retry_cap=timedelta(seconds=retry_cap)
        )
        self._channels = ChannelLeases(db, clock=clock, owner=owner, seconds=lease_seconds)
        budget = EditBudget(db, clock=clock, per_minute=edits_per_minute)
        self._edits = Editing(self._ledger, notifier, budget, clock=clock, refused=refused)
        self._posts = Posting(
            db,
            self._ledger,
            self._channels,
            notifier,
            clock=clock,
            pace=PostPace(timedelta(seconds=pace), burst),
            delivered=self._edits.kick,
            prompt_sent=prompt_sent,
            refused=refused,
            sleep=sleep,
        )
        self._beating: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()

    def start_heartbeat(self) -> None:
        """Renew this process's claims (messages being sent, channels held) four times a
        claim, so they never run out while it lives, and a crashed one's are free within one
        claim: another replica's next sweep takes them (three poll intervals at most)."""
        if self._beating is None:
            self._beating = asyncio.create_task(self._beat(self._lease.total_seconds() / 4))

    async def _beat(self, every: float) -> None:
        while not self._stopping.is_set():
            try:
                async with asyncio.timeout(every):
                    await self._stopping.wait()  # the heartbeat's period: what waiting is for
            except TimeoutError:
                pass
            if self._stopping.is_set() or not (self._channels.holds() or self._sending()):
                continue
            try:
                async with self._db.transaction(first=True) as session:
                    await self._ledger.renew(session)
                    await self._channels.renew(session)
            except Exception:
                log.exception("renewing this process's claims")

    def _sending(self) -> bool:
        return bool(self._posts.running() or self._edits.running())

    async def post_now(self, channel: str, message: Message) -> str:
        """Post a new channel message ahead of the queue and return its ts.

        Recorded like any other message, but never sent again by a sweep: if this process
        dies mid-post, the command that needed the ts died with it.
        """
        row = self._row(channel, Way.ROOT, message, state=State.SENDING)
        async with self._db.transaction() as session:
            session.add(row)
        async with self._posts.root_turn(channel):  # roots posted together go at its pace
            try:
                ts = await self._notifier.post(
                    channel, row.text, row.blocks, metadata=metadata(row.id)
                )
            except Exception:
                await self._ledger.marked([row.id], State.FAILED)
                raise
            async with self._db.transaction() as session:
                await self._ledger.mark(session, [row.id], State.SENT)
                await session.execute(  # what it shows, for the edits that follow (`send`)
                    update(OutboxRow).where(OutboxRow.id == row.id).values(target_ts=ts)
                )
                await self._posts.root_posted(session, channel)
        return ts

    def add(self, items: Iterable[Outgoing]) -> Also:
        """Write these messages in someone else's transaction (a status change's)."""
        rows = [self._of(item) for item in items]
        self._edits_queued |= any(row.kind == Way.UPDATE for row in rows)
        return lambda session: session.add_all(rows)

    async def send(self, items: Sequence[Outgoing]) -> None:
        """Queue messages and start delivering them (for what needs no compare-and-set). An
        edit to what its message already shows, or will once its queued edits are made, is
        left out: a root is never edited to the same words."""
        async with self._db.transaction() as session:
            items = [i for i in items if not await self._same(session, i)]
            self.add(items)(session)
        self.kick({item.channel for item in items})

    async def _same(self, session: AsyncSession, item: Outgoing) -> bool:
        if not isinstance(item, Edit):
            return False
        shown = await session.execute(
            select(OutboxRow.text, OutboxRow.blocks)
            .where(
                OutboxRow.channel == item.channel,
                OutboxRow.target_ts == item.ts,
                OutboxRow.state != State.FAILED.value,
            )
            .order_by(OutboxRow.id.desc())
            .limit(1)
        )
        last = shown.first()
        return last is not None and (last.text, last.blocks) == item.message.payload()

    def kick(self, channels: Iterable[str]) -> None:
        """Start delivering what was queued for these channels: their posts, and edits."""
        self._posts.kick(channels)
        if self._edits_queued:  # else the editor looks once the posts are out, if it must
            self._edits_queued = False
            self._edits.kick()

    async def sweep(self) -> None:
        """Pick up what a crash, a restart or another replica left undelivered."""
        async with self._db.session() as session:
            channels = await session.scalars(
                select(OutboxRow.channel)
                .where(
                    self._ledger.undelivered(),
                    OutboxRow.kind == Way.POST.value,
                    ~self._ledger.waits(),
                )
                .distinct()
            )
            self._posts.kick(list(channels))
        self._edits.kick()

    async def idle(self) -> None:
        """Wait until every sender has finished (tests and shutdown)."""
        while running := self._posts.running() + self._edits.running():
            await asyncio.gather(*running, return_exceptions=True)

    async def release(self) -> None:
        """Give back the messages this process took and did not send (a graceful stop): the
        posts under way are finished first, edits waiting for the workspace's budget are not."""
        await self._edits.stop()
        self._posts.stop_waiting()
        await self.idle()
        self._stopping.set()
        if self._beating is not None:
            await self._beating
        sending = (OutboxRow.state == State.SENDING.value) & (OutboxRow.owner == self._owner)
        async with self._db.transaction() as session:
            await session.execute(
                update(OutboxRow)
                .where(sending, OutboxRow.kind != Way.ROOT.value)
                .values(state=State.PENDING.value, owner=None, lease_until=None)
            )
        await self._channels.release_all()

    async def unsent(self) -> int:
        """How many messages wait to be sent, by any replica."""
        async with self._db.session() as session:
            count = await session.scalar(
                select(func.count()).select_from(OutboxRow).where(self._ledger.undelivered())
            )
        return int(count or 0)

    async def prune(self, *, before: datetime) -> None:
        """Forget delivered (or given-up) messages once they are old; never an undelivered one."""
        done = OutboxRow.state.in_((State.SENT.value, State.FAILED.value))
        async with self._db.transaction() as session:
            await session.execute(
                delete(OutboxRow).where(
                    done | (OutboxRow.kind == Way.ROOT.value), OutboxRow.created_at < before
                )
            )

    async def prompt_on_its_way(self, tracked_id: int) -> bool:
        """Whether an approval prompt of this deployment is queued or being sent (not sent, not
        given up): the poller re-posts a prompt only when none is."""
        on_its_way = OutboxRow.state.in_((State.PENDING.value, State.SENDING.value))
        async with self._db.session() as session:
            found = await session.scalar(
                select(OutboxRow.id)
                .where(
                    OutboxRow.tracked_id == tracked_id, OutboxRow.purpose == "prompt", on_its_way
                )
                .limit(1)
            )
        return found is not None

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
        text, blocks = message.payload()
        return OutboxRow(
            tracked_id=tracked_id,
            channel=channel,
            kind=way.value,
            thread_ts=thread,
            target_ts=target,
            text=text,
            blocks=blocks,
            broadcast=broadcast,
            purpose=purpose,
            state=state.value,
            owner=self._owner if sending else None,
            lease_until=self._now() + self._lease if sending else None,
            attempts=1 if sending else 0,
            created_at=self._now(),
        )
