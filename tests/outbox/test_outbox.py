"""The outbox without HTTP: edits merge, order holds, roots are sent at once and never again."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from slack_sdk.errors import SlackApiError
from sqlalchemy import select

from bot.metrics import REGISTRY
from bot.outbox import Edit, Outbox, Reply
from bot.outbox.channels import ChannelLeases
from bot.outbox.merge import merged
from bot.outbox.table import OutboxRow, State, Way
from bot.render import blocks
from bot.store.db import Database, aware
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
    db: Database,
    slack: FakeNotifier,
    prompts: list[tuple[int, str]],
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    **pacing: Any,
) -> Outbox:
    async def prompt_sent(row_id: int, ts: str) -> None:
        prompts.append((row_id, ts))

    return Outbox(
        db,
        slack,
        clock=clock,
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
    now = [datetime(2026, 1, 1, tzinfo=UTC)]  # stands still unless the test moves it
    slack = FakeNotifier()
    slack.refuse, slack.refuse_status, slack.retry_after = "ratelimited", 429, "3"
    outbox = _outbox(db, slack, [], clock=lambda: now[0])
    await outbox.send([Reply(CHANNEL, "root", blocks.note("one"))])
    await eventually(lambda: slack.refused)
    slack.refuse = None
    await outbox.idle()
    now[0] += timedelta(seconds=2.9)  # past the first back-off (at most 1 s), not Retry-After
    await outbox.sweep()  # a tick: the channel still waits
    await outbox.idle()
    assert slack.calls == []
    now[0] += timedelta(seconds=0.1)  # Retry-After: 3
    await outbox.sweep()  # the next tick
    await outbox.idle()
    assert [text for _, _, text in slack.calls] == ["one"]


async def test_a_reply_slack_failed_to_take_is_not_overtaken_by_the_next(db: Database) -> None:
    """One 503 on "building": "deploying" and "live" wait for it, then all go in order."""
    slack = FakeNotifier()
    slack.refuse, slack.refuse_status, slack.refuse_times = "service_unavailable", 503, 1
    outbox = _outbox(db, slack, [])
    said = ["is building", "is deploying", "is live"]
    await outbox.send([Reply(CHANNEL, "root", blocks.note(text)) for text in said])
    await eventually(lambda: len(slack.calls) == 3)
    await outbox.idle()
    assert [text for _, _, text in slack.calls] == said
    assert {state for _, state in await _states(db)} == {State.SENT}


async def test_slacks_final_answer_fails_the_message_at_once_and_the_next_goes(
    db: Database,
) -> None:
    """channel_not_found is final: one attempt, failed, counted; nothing waits behind it."""
    slack = FakeNotifier()
    slack.refuse, slack.refuse_times = "channel_not_found", 1
    outbox = _outbox(db, slack, [])
    before = _metric("deploybot_outbox_failed_total", way="post", reason="channel_not_found")
    await outbox.send([Reply(CHANNEL, "root", blocks.note(t)) for t in ("lost", "next")])
    await outbox.idle()
    assert slack.refused == 1
    assert [text for _, _, text in slack.calls] == ["next"]
    assert [state for _, state in await _states(db)] == [State.FAILED, State.SENT]
    after = _metric("deploybot_outbox_failed_total", way="post", reason="channel_not_found")
    assert after == before + 1


async def test_refused_blocks_go_to_the_fallback_hook(db: Database) -> None:
    """invalid_blocks is final for the blocks: the row and Slack's code reach the `refused`
    hook (where a plain-text fallback plugs in), once."""
    slack = FakeNotifier()
    slack.refuse, slack.refuse_times = "invalid_blocks", 1
    handed: list[tuple[str, str]] = []

    async def refused(row: OutboxRow, code: str) -> None:
        handed.append((row.text, code))

    outbox = Outbox(
        db,
        slack,
        clock=lambda: datetime.now(UTC),
        owner="me",
        refused=refused,
    )
    await outbox.send([Reply(CHANNEL, "root", blocks.note("too fancy"))])
    await outbox.idle()
    assert handed == [("too fancy", "invalid_blocks")]
    assert await _states(db) == [(Way.POST, State.FAILED)]


async def test_a_transient_failure_backs_off_and_is_counted(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    """Three 503s in a row: retried after about 1, 2 and 4 s (half of each jittered), each
    with a log line and the retry metric, then posted."""
    now = [datetime(2026, 1, 1, tzinfo=UTC)]
    slack = FakeNotifier()
    slack.refuse, slack.refuse_status, slack.refuse_times = "x", 503, 3
    outbox = Outbox(db, slack, clock=lambda: now[0], owner="me")
    before = _metric("deploybot_outbox_retries_total", way="post", reason="HTTP 503")
    await outbox.send([Reply(CHANNEL, "root", blocks.note("building"))])
    waits = []
    for attempt in (1, 2, 3):
        await eventually(lambda: slack.refused == attempt)  # noqa: B023 - awaited here
        await outbox.idle()
        async with db.session() as session:
            row = await session.get(OutboxRow, 1)
            assert row is not None
            assert row.not_before is not None
            waits.append((aware(row.not_before) - now[0]).total_seconds())
        await outbox.sweep()  # before its time: nothing is tried
        await outbox.idle()
        assert slack.refused == attempt
        now[0] = aware(row.not_before)
        await outbox.sweep()
    await eventually(lambda: slack.calls)
    await outbox.idle()
    assert all(lo <= w <= hi for w, lo, hi in zip(waits, (0.5, 1, 2), (1, 2, 4), strict=True))
    assert _metric("deploybot_outbox_retries_total", way="post", reason="HTTP 503") == before + 3
    assert caplog.text.count("Slack did not take post 1 in C0DEPLOYS (HTTP 503)") == 3


def _metric(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0
