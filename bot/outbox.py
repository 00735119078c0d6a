"""Delivers the outbox to Slack: in order per channel, paced, edits merged, never twice."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from slack_sdk.errors import SlackApiError
from sqlalchemy import or_, select, update

from bot.notifier import Notifier
from bot.store import Notice, Store

log = logging.getLogger(__name__)

METADATA_TYPE = "deploybot_notice"
GIVE_UP_AFTER = 5  # attempts; a message Slack keeps refusing is logged, not retried forever


class Outbox:
    def __init__(
        self, store: Store, notifier: Notifier, *, owner: str, lease_seconds: float = 30.0
    ) -> None:
        self._store = store
        self._notifier = notifier
        self._owner = owner
        # Longer than a Slack call can take, or a live sender's notice could be taken over.
        self._lease = timedelta(seconds=lease_seconds)
        self._senders: dict[str, asyncio.Task[None]] = {}

    async def send(self, notices: Iterable[Notice]) -> None:
        """Queue notices and start delivering them (for what needs no compare-and-set)."""
        notices = list(notices)
        await self._store.enqueue(notices)
        self.kick({n.channel for n in notices})

    def kick(self, channels: Iterable[str]) -> None:
        """Make sure a sender runs for each channel; one per channel keeps their order."""
        for channel in channels:
            task = self._senders.get(channel)
            if task is None or task.done():
                self._senders[channel] = asyncio.create_task(self._drain(channel))

    async def sweep(self) -> None:
        """Pick up what a crash, a restart or another replica left undelivered."""
        now = datetime.now(UTC)
        async with self._store.session() as session:
            channels = await session.scalars(
                select(Notice.channel)
                .where(
                    or_(
                        Notice.state == "pending",
                        (Notice.state == "sending") & (Notice.lease_until < now),
                    )
                )
                .distinct()
            )
            self.kick(list(channels))

    async def idle(self) -> None:
        """Wait until every sender has finished (tests and shutdown)."""
        while running := [t for t in self._senders.values() if not t.done()]:
            await asyncio.gather(*running, return_exceptions=True)

    async def _drain(self, channel: str) -> None:
        while (notice := await self._claim(channel)) is not None:
            try:
                await self._deliver(notice)
            except SlackApiError as exc:
                await self._failed(notice, exc)
            except Exception:
                log.exception("delivering notice %s to %s", notice.id, channel)
                await self._failed(notice, None)

    async def _claim(self, channel: str) -> Notice | None:
        """The oldest undelivered notice of a channel, taken with a lease (compare-and-set)."""
        now = datetime.now(UTC)
        async with self._store.session.begin() as session:
            notice = await session.scalar(
                select(Notice)
                .where(
                    Notice.channel == channel,
                    or_(
                        Notice.state == "pending",
                        (Notice.state == "sending") & (Notice.lease_until < now),
                    ),
                )
                .order_by(Notice.id)
                .limit(1)
            )
            if notice is None:
                return None
            taken = await session.execute(
                update(Notice)
                .where(Notice.id == notice.id, Notice.state == notice.state)
                .where(Notice.attempts == notice.attempts)
                .values(
                    state="sending",
                    owner=self._owner,
                    lease_until=now + self._lease,
                    attempts=Notice.attempts + 1,
                )
            )
            if getattr(taken, "rowcount", 0) != 1:
                return await self._claim(channel)  # another replica took it: try the next
            return notice

    async def _deliver(self, notice: Notice) -> None:
        if notice.kind == "update":
            latest = await self._merge(notice)
            await self._notifier.update_raw(
                latest.channel, latest.target_ts or "", latest.text, latest.blocks
            )
            await self._done(notice.id, None)
            return
        if notice.attempts > 0 and (found := await self._already_posted(notice)) is not None:
            await self._done(notice.id, found)  # posted before a crash: do not post it twice
            return
        ts = await self._notifier.post_raw(
            notice.channel,
            notice.text,
            notice.blocks,
            thread_ts=notice.thread_ts,
            broadcast=notice.broadcast,
            metadata={"event_type": METADATA_TYPE, "event_payload": {"notice": notice.id}},
        )
        await self._done(notice.id, ts)
        if notice.purpose == "prompt" and notice.tracked_id is not None:
            await self._store.update(notice.tracked_id, prompt_ts=ts)

    async def _merge(self, notice: Notice) -> Notice:
        """Pending edits of the same message collapse into the newest: one chat.update."""
        async with self._store.session.begin() as session:
            later = list(
                await session.scalars(
                    select(Notice)
                    .where(
                        Notice.kind == "update",
                        Notice.channel == notice.channel,
                        Notice.target_ts == notice.target_ts,
                        Notice.state == "pending",
                        Notice.id > notice.id,
                    )
                    .order_by(Notice.id)
                )
            )
            if not later:
                return notice
            await session.execute(
                update(Notice)
                .where(Notice.id.in_([n.id for n in later]), Notice.state == "pending")
                .values(state="merged")
            )
            return later[-1]

    async def _already_posted(self, notice: Notice) -> str | None:
        if notice.thread_ts is None:
            return None
        return await self._notifier.find_by_metadata(
            notice.channel, notice.thread_ts, METADATA_TYPE, {"notice": notice.id}
        )

    async def _done(self, notice_id: int, ts: str | None) -> None:
        async with self._store.session.begin() as session:
            await session.execute(
                update(Notice).where(Notice.id == notice_id).values(state="sent", sent_ts=ts)
            )

    async def _failed(self, notice: Notice, exc: SlackApiError | None) -> None:
        code = str(exc.response.get("error") or exc.response.status_code) if exc else "unexpected"
        final = notice.attempts + 1 >= GIVE_UP_AFTER or code in _FINAL_ERRORS
        log.warning("Slack refused notice %s in %s: %s", notice.id, notice.channel, code)
        async with self._store.session.begin() as session:
            await session.execute(
                update(Notice)
                .where(Notice.id == notice.id)
                .values(state="failed" if final else "pending", lease_until=None)
            )


# Retrying cannot help with these: the channel or message is gone, or we are not in it.
_FINAL_ERRORS = frozenset(
    {"channel_not_found", "not_in_channel", "is_archived", "message_not_found", "invalid_blocks"}
)
