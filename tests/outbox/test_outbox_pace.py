"""Pacing as Slack paces: posts per channel (bursts allowed), edits on the workspace's budget.

The pace is a pure function of plain datetimes (`PostPace`), tested as such; the outbox runs on
a clock that stands still unless the outbox waits out its pace (or the test moves it), so when
each message went is read off that clock, exactly, however busy the machine is."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import event, select

from bot.outbox import Edit, Outbox, Reply
from bot.outbox.budget import EditBudget
from bot.outbox.pace import PostPace
from bot.outbox.table import OutboxRow, State
from bot.render import blocks
from bot.store.db import Database
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


async def _spend(budget: EditBudget, db: Database, most: int) -> int:
    async with db.transaction() as session:
        grant = await budget.grant(session, most)
        await budget.spend(session, grant, grant.count)
    return grant.count


async def test_the_edit_budget_lets_a_burst_go_then_counts(db: Database) -> None:
    assert await _spend(EditBudget(db, clock=lambda: T0, per_minute=0), db, 10) == 10  # no limit
    budget = EditBudget(db, clock=lambda: T0, per_minute=3)
    assert await _spend(budget, db, 10) == 3  # a minute's worth at once
    assert await _spend(budget, db, 10) == 0
    assert await budget.wait() == 20  # then one every 20 s


async def test_the_edit_budget_is_the_stores_not_the_replicas(db: Database) -> None:
    """What one replica spent, another cannot spend again."""
    one = EditBudget(db, clock=lambda: T0, per_minute=3)
    two = EditBudget(db, clock=lambda: T0, per_minute=3)
    assert await _spend(one, db, 2) == 2
    assert await _spend(two, db, 10) == 1
    later = EditBudget(db, clock=lambda: T0 + 20 * SECOND, per_minute=3)
    assert await _spend(later, db, 10) == 1


class PacedClock:
    """The outbox's clock: it moves only when the outbox waits out its pace, by that wait."""

    def __init__(self) -> None:
        self.now = T0
        self.waits: list[float] = []

    def __call__(self) -> datetime:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.now += timedelta(seconds=seconds)
        await asyncio.sleep(0)  # others run meanwhile, as they would


class StampedSlack(FakeNotifier):
    """Records, beside each call, the outbox's clock when Slack got it."""

    def __init__(self, clock: PacedClock) -> None:
        super().__init__()
        self._clock = clock
        self.at: list[tuple[float, str, str]] = []  # (seconds after T0, "post"/"update", channel)

    def _record(self, method: str, channel: str, ts: str, text: str) -> None:
        super()._record(method, channel, ts, text)
        self.at.append(((self._clock.now - T0).total_seconds(), method, channel))

    def posted(self, channel: str) -> list[float]:
        return [at for at, way, where in self.at if way == "post" and where == channel]

    def edits(self) -> list[str]:
        return [text for way, _, text in self.calls if way == "update"]


def _outbox(db: Database, clock: PacedClock, slack: FakeNotifier, **pacing: Any) -> Outbox:
    return Outbox(db, slack, clock=clock, sleep=clock.sleep, owner="me", **pacing)


async def test_replies_in_one_channel_burst_then_keep_the_pace(db: Database) -> None:
    clock = PacedClock()
    slack = StampedSlack(clock)
    outbox = _outbox(db, clock, slack, pace=0.2, burst=3)
    await outbox.send([Reply("C1", "root", blocks.note(f"reply {i}")) for i in range(5)])
    await outbox.idle()
    assert [text for _, _, text in slack.calls] == [f"reply {i}" for i in range(5)]
    assert slack.posted("C1") == [0, 0, 0, 0.2, 0.4]  # three back to back, then one a pace


async def test_roots_posted_together_in_one_channel_keep_its_pace(db: Database) -> None:
    """Ten `/deploy` in one channel at once: the roots go a burst, then one a pace (Slack
    would refuse the rest), and every command gets its root."""
    clock = PacedClock()
    slack = StampedSlack(clock)
    outbox = _outbox(db, clock, slack, pace=0.2, burst=3)
    roots = await asyncio.gather(
        *(outbox.post_now("C1", blocks.note(f"Deploy app{i}")) for i in range(6))
    )
    assert len(set(roots)) == 6
    assert slack.posted("C1") == [0, 0, 0, 0.2, 0.4, 0.6]


async def test_channels_do_not_wait_for_each_other(db: Database) -> None:
    """One reply in each of many channels: none waits for a neighbour's pace."""
    clock = PacedClock()
    slack = StampedSlack(clock)
    outbox = _outbox(db, clock, slack, pace=5, burst=1)
    await outbox.send([Reply(f"C{i}", "root", blocks.note("live")) for i in range(20)])
    await outbox.idle()
    assert len(slack.calls) == 20
    assert clock.waits == []  # nobody waited: each channel's first post is in its burst
    assert {at for at, _, _ in slack.at} == {0}


async def test_an_edit_out_of_budget_never_holds_back_a_reply(db: Database) -> None:
    """The workspace's edits are spent: replies still go at once; the edits follow, merged."""
    clock = PacedClock()
    slack = StampedSlack(clock)
    outbox = _outbox(db, clock, slack, edits_per_minute=60)  # a bucket of 60, then one a second
    await outbox.send([Edit("C9", f"other-{i}", blocks.note("spend")) for i in range(60)])
    await eventually(lambda: len(slack.calls) == 60)
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
    assert slack.edits() == []  # the clock stands: the budget has no room
    clock.now += SECOND  # a second's share
    await eventually(lambda: slack.edits() == ["live"])  # one edit, the newest
    await outbox.release()
    assert slack.edits() == ["live"]


async def test_an_edit_waits_for_the_replies_queued_before_it(db: Database) -> None:
    """A status change's reply goes before its root's edit, even with posts paced."""
    clock = PacedClock()
    slack = StampedSlack(clock)
    outbox = _outbox(db, clock, slack, pace=0.3, burst=1)
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
    assert [at for at, _, _ in slack.at] == [0, 0.3, 0.3]


async def test_slacks_retry_after_on_an_edit_holds_the_edits_not_the_replies(
    db: Database,
) -> None:
    clock = PacedClock()
    slack = StampedSlack(clock)
    slack.refuse, slack.refuse_on, slack.refuse_status = "ratelimited", "update", 429
    slack.retry_after = "1"
    outbox = _outbox(db, clock, slack, pace=0)
    await outbox.send([Edit("C1", "root", blocks.note("live"))])
    await eventually(lambda: slack.refused)
    slack.refuse = None
    await outbox.send([Reply("C2", "root", blocks.note("is live"))])
    await eventually(lambda: slack.calls)
    assert slack.calls == [("post", "root", "is live")]  # the reply did not wait
    await outbox.sweep()  # a tick before Retry-After has passed: the edit still waits
    await outbox.idle()
    assert slack.edits() == []
    clock.now += SECOND  # Retry-After: 1
    await outbox.sweep()  # the next tick
    await eventually(lambda: slack.calls[-1] == ("update", "root", "live"))
    await outbox.idle()
    assert slack.edits() == ["live"]


async def test_replies_in_many_channels_cost_a_few_store_round_trips(db: Database) -> None:
    """A reply in each of 50 channels at once: the channels are held and their posts taken in
    one transaction, marked and let go in a few more (a group commit), not three each."""
    clock = PacedClock()
    slack = StampedSlack(clock)
    outbox = _outbox(db, clock, slack)
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
    """SIGTERM hands over at once: edits waiting for the budget are given back, not awaited
    (the clock stands still, so the budget would never have room)."""
    clock = PacedClock()
    slack = StampedSlack(clock)
    outbox = _outbox(db, clock, slack, edits_per_minute=6)  # a bucket of 6, then one every 10 s
    await outbox.send([Edit("C9", f"other-{i}", blocks.note("spend")) for i in range(6)])
    await eventually(lambda: len(slack.calls) == 6)
    await outbox.send([Edit("C1", "root", blocks.note("live"))])
    async with asyncio.timeout(30):  # a hang, not a measure: it returns without the budget
        await outbox.release()
    assert len(slack.calls) == 6
    async with db.session() as session:
        row = (await session.scalars(select(OutboxRow).order_by(OutboxRow.id.desc()))).first()
        assert row is not None
        assert (row.target_ts, row.state, row.owner) == ("root", State.PENDING, None)
