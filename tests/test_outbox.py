"""The outbox without HTTP: edits merge, order holds, roots are sent at once and never again."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import pytest
from slack_sdk.errors import SlackApiError
from sqlalchemy import select

from bot import blocks
from bot.db import Database
from bot.notifier import Notifier
from bot.outbox import Edit, Outbox, Reply
from bot.outbox.channels import ChannelLeases
from bot.outbox.merge import merged
from bot.outbox.table import OutboxRow, State, Way
from tests.conftest import eventually
from tests.fakes.notifier import FakeNotifier

CHANNEL = "C0DEPLOYS"


@dataclass
class Queued:
    id: int
    kind: str
    target_ts: str | None = None
    channel: str = CHANNEL


def test_edits_of_one_message_merge_into_the_newest_where_the_newest_stood() -> None:
    """Three edits of the root while replies wait: one edit, in the newest edit's place, so
    the reply queued between them is not held behind it."""
    batch = [
        Queued(1, Way.UPDATE, "root"),
        Queued(2, Way.POST),
        Queued(3, Way.UPDATE, "root"),
        Queued(4, Way.UPDATE, "prompt"),
        Queued(5, Way.UPDATE, "root"),
    ]
    plan = [(row.id, covers) for row, covers in merged(batch)]
    assert plan == [(2, [2]), (4, [4]), (5, [1, 3, 5])]


def test_replies_never_merge() -> None:
    """Every reply is posted: only edits of one message collapse."""
    batch = [Queued(1, Way.POST), Queued(2, Way.POST)]
    assert [covers for _, covers in merged(batch)] == [[1], [2]]


def _outbox(
    db: Database, slack: FakeNotifier, prompts: list[tuple[int, str]], **pacing: Any
) -> Outbox:
    async def prompt_sent(row_id: int, ts: str) -> None:
        prompts.append((row_id, ts))

    return Outbox(
        db,
        cast(Notifier, slack),
        clock=lambda: datetime.now(UTC),
        owner="me",
        prompt_sent=prompt_sent,
        **pacing,
    )


async def _states(db: Database) -> list[tuple[str, str]]:
    async with db.session() as session:
        rows = await session.scalars(select(OutboxRow).order_by(OutboxRow.id))
        return [(row.kind, row.state) for row in rows]


async def test_a_burst_is_delivered_in_order_with_the_root_edits_merged(db: Database) -> None:
    """Queued together, the thread's replies keep their order and the root is edited once."""
    slack, prompts = FakeNotifier(), []  # type: ignore[var-annotated]
    outbox = _outbox(db, slack, prompts)
    await outbox.send(
        [
            Edit(CHANNEL, "root", blocks.note("building")),
            Reply(CHANNEL, "root", blocks.note("is building")),
            Edit(CHANNEL, "root", blocks.note("live")),
            Reply(CHANNEL, "root", blocks.note("publish it?"), tracked_id=7, prompt=True),
        ]
    )
    await outbox.idle()
    posts = [text for way, _, text in slack.calls if way == "post"]
    edits = [text for way, _, text in slack.calls if way == "update"]
    assert posts == ["is building", "publish it?"]
    assert edits[-1] == "live"
    assert len(edits) <= 2  # "building" may go alone, before the reply
    # The root showed "live" only once the reply queued before that edit was out.
    assert slack.calls.index(("update", "root", "live")) > slack.calls.index(
        ("post", "root", "is building")
    )
    prompt_ts = f"ts-{slack.calls.index(('post', 'root', 'publish it?')) + 1}"
    assert prompts == [(7, prompt_ts)]  # the prompt's ts is recorded on its deployment
    assert {state for _, state in await _states(db)} == {State.SENT}


async def test_a_root_is_sent_at_once_recorded_and_never_sent_again(db: Database) -> None:
    """post_now returns the ts; the row is kept as sent, and a sweep sends nothing more."""
    slack = FakeNotifier()
    outbox = _outbox(db, slack, [])
    ts = await outbox.post_now(CHANNEL, blocks.note("Deploy web"))
    assert ts == "ts-1"
    assert await _states(db) == [(Way.ROOT, State.SENT)]
    await outbox.sweep()
    await outbox.idle()
    assert len(slack.calls) == 1


async def test_a_refused_root_raises_and_is_not_retried(db: Database) -> None:
    """Not in the channel: the caller hears it (nothing is triggered), the row is failed."""
    slack = FakeNotifier()
    slack.refuse = "not_in_channel"
    outbox = _outbox(db, slack, [])
    with pytest.raises(SlackApiError):
        await outbox.post_now(CHANNEL, blocks.note("Deploy web"))
    assert await _states(db) == [(Way.ROOT, State.FAILED)]
    slack.refuse = None
    await outbox.sweep()
    await outbox.idle()
    assert slack.calls == []


async def test_a_graceful_stop_gives_back_the_messages_it_took_and_only_those(
    db: Database,
) -> None:
    """Released, this process's unsent messages are pending again; another's claim stays."""
    outbox = _outbox(db, FakeNotifier(), [])
    async with db.transaction() as session:
        outbox.add(
            [Reply(CHANNEL, "root", blocks.note("mine")), Reply(CHANNEL, "root", blocks.note("x"))]
        )(session)
    async with db.transaction() as session:
        for row_id, owner in ((1, "me"), (2, "other")):
            row = await session.get(OutboxRow, row_id)
            assert row is not None
            row.state, row.owner = State.SENDING.value, owner
    await outbox.release()
    async with db.session() as session:
        rows = await session.scalars(select(OutboxRow).order_by(OutboxRow.id))
        assert [(row.state, row.owner) for row in rows] == [
            (State.PENDING, None),
            (State.SENDING, "other"),
        ]


async def test_one_replica_holds_a_channel_and_hands_its_pace_to_the_next(db: Database) -> None:
    """While one replica holds a channel another gets nothing; released, the next holder
    learns when it may write (the pace, or Slack's Retry-After)."""
    now = datetime(2026, 1, 1, tzinfo=UTC)
    one = ChannelLeases(db, clock=lambda: now, owner="one", seconds=30)
    two = ChannelLeases(db, clock=lambda: now, owner="two", seconds=30)

    async def take(leases: ChannelLeases) -> datetime | None:
        async with db.transaction() as session:
            return (await leases.take_all(session, [CHANNEL, "C0OTHER"])).get(CHANNEL)

    assert await take(one) == now
    assert await take(two) is None
    later = now + timedelta(seconds=7)
    async with db.transaction() as session:
        await one.release_all_of(session, {CHANNEL: later})
    assert await take(two) == later
    assert await take(one) is None
    await two.release_all()
    assert await take(one) == later


async def test_slacks_retry_after_holds_back_the_channel(db: Database) -> None:
    """A 429 that outlasted slack_sdk's retries: the channel waits Retry-After, then goes on."""
    slack = FakeNotifier()
    slack.refuse, slack.refuse_status, slack.retry_after = "ratelimited", 429, "0.5"
    outbox = _outbox(db, slack, [])
    await outbox.send([Reply(CHANNEL, "root", blocks.note("one"))])
    await eventually(lambda: slack.refused)
    slack.refuse = None
    refused = time.monotonic()
    await outbox.idle()
    assert [text for _, _, text in slack.calls] == ["one"]
    assert time.monotonic() - refused >= 0.45
