"""Delivers the outbox to Slack: in order per channel, paced, edits merged, never twice."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

import aiohttp
from slack_sdk.errors import SlackApiError
from sqlalchemy import or_, select, update

from bot.notifier import Notifier
from bot.store import Notice, Store

log = logging.getLogger(__name__)

METADATA_TYPE = "deploybot_notice"
GIVE_UP_AFTER = 5  # attempts; a message Slack keeps refusing is logged, not retried forever
BATCH = 10  # notices a sender takes at once: fewer writes to the store per message


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
        while batch := await self._claim(channel):
            sent: list[int] = []
            try:
                for notice, covers in _merged(batch):
                    try:
                        await self._deliver(notice)
                        sent.extend(covers)
                    except SlackApiError as exc:
                        await self._failed(notice, covers, exc)
                    except Exception:
                        log.exception("delivering notice %s to %s", notice.id, channel)
                        await self._failed(notice, covers, None)
            finally:
                await self._done(sent)

    async def _claim(self, channel: str) -> list[Notice]:
        """The oldest undelivered notices of a channel, taken with a lease in one statement.

        Under PostgreSQL's row locks a replica that races for the same rows re-reads them after
        this one commits and finds them taken; SQLite has one writer at a time.
        """
        now = datetime.now(UTC)
        undelivered = or_(
            Notice.state == "pending", (Notice.state == "sending") & (Notice.lease_until < now)
        )
        oldest = (
            select(Notice.id)
            .where(Notice.channel == channel, undelivered)
            .order_by(Notice.id)
            .limit(BATCH)
            .scalar_subquery()
        )
        async with self._store.session.begin() as session:
            taken = await session.scalars(
                update(Notice)
                .where(Notice.id.in_(oldest), undelivered)
                .values(
                    state="sending",
                    owner=self._owner,
                    lease_until=now + self._lease,
                    attempts=Notice.attempts + 1,
                )
                .returning(Notice),
                execution_options={"synchronize_session": False},
            )
            return sorted(taken, key=lambda notice: notice.id)

    async def _deliver(self, notice: Notice) -> None:
        if notice.kind == "update":
            await self._notifier.update_raw(
                notice.channel, notice.target_ts or "", notice.text, notice.blocks
            )
            return
        if notice.attempts > 1 and (ts := await self._already_posted(notice)) is not None:
            # Posted before a crash, or before its connection dropped: not posted twice.
            await self._posted(notice, ts)
            return
        ts = await self._notifier.post_raw(
            notice.channel,
            notice.text,
            notice.blocks,
            thread_ts=notice.thread_ts,
            broadcast=notice.broadcast,
            metadata={"event_type": METADATA_TYPE, "event_payload": {"notice": notice.id}},
        )
        await self._posted(notice, ts)

    async def _posted(self, notice: Notice, ts: str) -> None:
        if notice.purpose == "prompt" and notice.tracked_id is not None:
            await self._store.update(notice.tracked_id, prompt_ts=ts)

    async def _already_posted(self, notice: Notice) -> str | None:
        """The reply's ts if an earlier attempt posted it; None if not, or if Slack cannot say.

        When the lookup itself fails (rate limited, a token without the history scopes), the
        notice is posted anyway: a rare duplicate beats an announcement lost after its attempts.
        """
        if notice.thread_ts is None:
            return None
        try:
            return await self._notifier.find_by_metadata(
                notice.channel, notice.thread_ts, METADATA_TYPE, {"notice": notice.id}
            )
        except SlackApiError as exc:
            reason = exc.response.get("error") or f"HTTP {exc.response.status_code}"
        except (aiohttp.ClientError, TimeoutError) as exc:
            reason = type(exc).__name__
        log.warning(
            "cannot tell whether notice %s was already posted in %s (conversations.replies: %s): "
            "posting it, as a rare duplicate beats a lost announcement",
            notice.id,
            notice.channel,
            reason,
        )
        return None

    async def _done(self, ids: list[int]) -> None:
        if not ids:
            return
        async with self._store.session.begin() as session:
            await session.execute(update(Notice).where(Notice.id.in_(ids)).values(state="sent"))

    async def _failed(self, notice: Notice, covers: list[int], exc: SlackApiError | None) -> None:
        code = str(exc.response.get("error") or exc.response.status_code) if exc else "unexpected"
        final = notice.attempts >= GIVE_UP_AFTER or code in _FINAL_ERRORS
        log.warning("Slack refused notice %s in %s: %s", notice.id, notice.channel, code)
        async with self._store.session.begin() as session:
            await session.execute(
                update(Notice)
                .where(Notice.id.in_(covers))
                .values(state="failed" if final else "pending", lease_until=None)
            )


def _merged(batch: list[Notice]) -> list[tuple[Notice, list[int]]]:
    """Edits of one message collapse into the newest, sent where the first stood: one
    chat.update for a root that changed three times while it waited for its turn."""
    plan: list[tuple[Notice, list[int]]] = []
    edits: dict[str | None, int] = {}
    for notice in batch:
        if notice.kind == "update" and notice.target_ts in edits:
            place = edits[notice.target_ts]
            plan[place] = (notice, [*plan[place][1], notice.id])
            continue
        if notice.kind == "update":
            edits[notice.target_ts] = len(plan)
        plan.append((notice, [notice.id]))
    return plan


# Retrying cannot help with these: the channel or message is gone, or we are not in it.
_FINAL_ERRORS = frozenset(
    {"channel_not_found", "not_in_channel", "is_archived", "message_not_found", "invalid_blocks"}
)
