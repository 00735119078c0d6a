"""Pacing as Slack paces: posts per channel (bursts allowed), edits on the workspace's budget."""

from __future__ import annotations

import asyncio
import itertools
import time
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import event, select

from bot import blocks
from bot.db import Database
from bot.notifier import Notifier
from bot.outbox import Edit, Outbox, Reply
from bot.outbox.pace import EditBudget, PostPace
from bot.outbox.table import OutboxRow, State
from tests.conftest import eventually
from tests.fakes.notifier import FakeNotifier

T0 = datetime(2026, 1, 1, tzinfo=UTC)
SECOND = timedelta(seconds=1)


def _sent_at(pace: PostPace, count: int, now: datetime = T0) -> list[float]:
    """When `count` posts queued at once go, each as early as the pace lets it."""
    due, times = now, []
    for _ in range(count):
        at = pace.earliest(due, now)
        times.append((at - T0).total_seconds())
        due, now = pace.after(due, at), at
    return times


def test_a_channel_takes_a_short_burst_then_one_post_a_second() -> None:
    assert _sent_at(PostPace(SECOND, burst=3), 6) == [0, 0, 0, 1, 2, 3]
    assert _sent_at(PostPace(SECOND, burst=1), 3) == [0, 1, 2]


def test_a_quiet_channel_earns_its_burst_back() -> None:
    pace = PostPace(SECOND, burst=3)
    due = T0
    for _ in range(3):
        due = pace.after(due, T0)
    assert pace.earliest(due, T0) == T0 + SECOND  # the burst is spent
    assert pace.earliest(due, T0 + 3 * SECOND) == T0 + 3 * SECOND  # three quiet seconds later


def test_retry_after_keeps_the_channel_quiet_that_long() -> None:
    pace = PostPace(SECOND, burst=3)
    due = pace.hold(T0, 30 * SECOND)
    assert pace.earliest(due, T0) == T0 + 30 * SECOND


async def test_the_edit_budget_lets_a_burst_go_then_counts() -> None:
    assert EditBudget(0).ready(10) == 10  # no limit
    budget = EditBudget(3)
    assert budget.ready(10) == 3


async def test_the_edit_budget_waits_once_spent() -> None:
    budget = EditBudget(120)  # two a second, a bucket of 120
    for _ in range(120):
        await budget.take()
    assert budget.ready(10) == 0  # nothing left now


def _outbox(db: Database, slack: FakeNotifier, **pacing: Any) -> Outbox:
    return Outbox(db, cast(Notifier, slack), clock=lambda: datetime.now(UTC), owner="me", **pacing)


def _gaps(slack: FakeNotifier, method: str, channel: str) -> list[float]:
    times = [at for at, way, where in slack.times if way == method and where == channel]
    return [b - a for a, b in itertools.pairwise(times)]


async def test_replies_in_one_channel_burst_then_keep_the_pace(db: Database) -> None:
    slack = FakeNotifier()
    outbox = _outbox(db, slack, pace=0.2, burst=3)
    await outbox.send([Reply("C1", "root", blocks.note(f"reply {i}")) for i in range(5)])
    await outbox.idle()
    assert [text for _, _, text in slack.calls] == [f"reply {i}" for i in range(5)]
    gaps = _gaps(slack, "post", "C1")
    assert max(gaps[:2]) < 0.1  # the first three back to back
    assert min(gaps[2:]) >= 0.18  # then one a pace


async def test_roots_posted_together_in_one_channel_keep_its_pace(db: Database) -> None:
    """Ten `/deploy` in one channel at once: the roots go a burst, then one a pace (Slack
    would refuse the rest), and every command gets its root."""
    slack = FakeNotifier()
    outbox = _outbox(db, slack, pace=0.2, burst=3)
    roots = await asyncio.gather(
        *(outbox.post_now("C1", blocks.note(f"Deploy app{i}")) for i in range(6))
    )
    assert len(set(roots)) == 6
    gaps = _gaps(slack, "post", "C1")
    assert max(gaps[:2]) < 0.1  # a burst of three
    assert min(gaps[2:]) >= 0.18  # then one a pace


async def test_channels_do_not_wait_for_each_other(db: Database) -> None:
    """One reply in each of many channels: none waits for a neighbour's pace."""
    slack = FakeNotifier()
    outbox = _outbox(db, slack, pace=5, burst=1)
    started = time.monotonic()
    await outbox.send([Reply(f"C{i}", "root", blocks.note("live")) for i in range(20)])
    await outbox.idle()
    assert len(slack.calls) == 20
    assert time.monotonic() - started < 5  # not one pace each


async def test_an_edit_out_of_budget_never_holds_back_a_reply(db: Database) -> None:
    """The workspace's edits are spent: replies still go at once; the edits follow, merged."""
    slack = FakeNotifier()
    outbox = _outbox(db, slack, edits_per_minute=60)  # a bucket of 60, then one a second
    await outbox.send([Edit("C9", f"other-{i}", blocks.note("spend")) for i in range(60)])
    await eventually(lambda: len(slack.calls) == 60)
    await outbox.send([Edit("C1", "root", blocks.note("first edit"))])
    await eventually(lambda: len(slack.calls) == 61)  # a second's share later
    slack.calls.clear()
    await outbox.send(
        [
            Reply("C1", "root", blocks.note("is building")),
            Edit("C1", "root", blocks.note("building")),
            Reply("C1", "root", blocks.note("is live")),
            Edit("C1", "root", blocks.note("live")),
        ]
    )
    await eventually(
        lambda: [t for w, _, t in slack.calls if w == "post"] == ["is building", "is live"]
    )
    assert [t for w, _, t in slack.calls if w == "update"] == []  # waiting for the budget
    await outbox.idle()  # a second's share later: one edit, the newest
    assert [t for w, _, t in slack.calls if w == "update"] == ["live"]


async def test_an_edit_waits_for_the_replies_queued_before_it(db: Database) -> None:
    """A status change's reply goes before its root's edit, even with posts paced."""
    slack = FakeNotifier()
    outbox = _outbox(db, slack, pace=0.3, burst=1)
    await outbox.send(
        [
            Reply("C1", "root", blocks.note("one")),
            Reply("C1", "root", blocks.note("two")),
            Edit("C1", "root", blocks.note("after two")),
        ]
    )
    await outbox.idle()
    assert slack.calls == [
        ("post", "root", "one"),
        ("post", "root", "two"),
        ("update", "root", "after two"),
    ]


async def test_slacks_retry_after_on_an_edit_holds_the_edits_not_the_replies(
    db: Database,
) -> None:
    slack = FakeNotifier()
    slack.refuse, slack.refuse_on, slack.refuse_status = "ratelimited", "update", 429
    slack.retry_after = "1"
    outbox = _outbox(db, slack, pace=0)
    await outbox.send([Edit("C1", "root", blocks.note("live"))])
    await eventually(lambda: slack.refused)
    slack.refuse = None
    refused = time.monotonic()
    await outbox.send([Reply("C2", "root", blocks.note("is live"))])
    await eventually(lambda: slack.calls)
    assert slack.calls == [("post", "root", "is live")]  # the reply did not wait
    assert time.monotonic() - refused < 0.9
    await outbox.idle()
    assert slack.calls[-1] == ("update", "root", "live")
    assert time.monotonic() - refused >= 0.9


async def test_replies_in_many_channels_cost_a_few_store_round_trips(db: Database) -> None:
    """A reply in each of 50 channels at once: the channels are held and their posts taken in
    one transaction, marked and let go in a few more (a group commit), not three each."""
    slack = FakeNotifier()
    outbox = _outbox(db, slack)
    begun: list[object] = []
    event.listen(db.engine.sync_engine, "begin", begun.append)
    channels = [f"C{i}" for i in range(50)]
    async with db.transaction() as session:  # as the status changes of one tick write them
        outbox.add([Reply(c, "root", blocks.note("is live")) for c in channels])(session)
    begun.clear()
    outbox.kick(channels)
    await outbox.idle()
    assert len(slack.calls) == 50
    assert len(begun) <= 6  # 1 to take, a few to settle, 1 look for edits


async def test_a_graceful_stop_leaves_edits_waiting_for_budget_to_the_next(db: Database) -> None:
    """SIGTERM hands over at once: edits waiting for the budget are given back, not awaited."""
    slack = FakeNotifier()
    outbox = _outbox(db, slack, edits_per_minute=6)  # a bucket of 6, then one every 10 s
    await outbox.send([Edit("C9", f"other-{i}", blocks.note("spend")) for i in range(6)])
    await eventually(lambda: len(slack.calls) == 6)
    await outbox.send([Edit("C1", "root", blocks.note("live"))])
    stopping = time.monotonic()
    await outbox.release()
    assert time.monotonic() - stopping < 5
    assert len(slack.calls) == 6
    async with db.session() as session:
        row = (await session.scalars(select(OutboxRow).order_by(OutboxRow.id.desc()))).first()
        assert row is not None
        assert (row.target_ts, row.state, row.owner) == ("root", State.PENDING, None)
