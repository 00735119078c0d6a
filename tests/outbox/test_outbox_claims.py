"""The outbox's claims across replicas: a live process keeps what it is sending (its heartbeat),
and the workspace's edit budget is one for every replica (on the real PostgreSQL)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot import migrations
from bot.outbox import Edit, Outbox, Reply
from bot.outbox.budget import EditBudget
from bot.outbox.ledger import Ledger
from bot.outbox.table import ChannelLease, OutboxRow, State
from bot.render import blocks
from bot.store.db import Database, aware
from tests.conftest import eventually
from tests.fakes.notifier import FakeNotifier

CHANNEL = "C0DEPLOYS"
T0 = datetime(2026, 1, 1, tzinfo=UTC)
CAP = timedelta(seconds=60)


class Clock:
    """The outboxes' one clock: it stands still until the test moves it."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


class SlowSlack(FakeNotifier):
    """Takes a post, then answers only once released (a slow Slack, as a call may be)."""

    def __init__(self) -> None:
        super().__init__()
        self.posting = asyncio.Event()
        self.answer = asyncio.Event()

    async def post(self, channel: str, text: str, blocks: Any, **options: Any) -> str:
        self.posting.set()
        await self.answer.wait()
        return await super().post(channel, text, blocks, **options)


def _outbox(db: Database, slack: FakeNotifier, clock: Clock, owner: str, **more: Any) -> Outbox:
    return Outbox(db, slack, clock=clock, owner=owner, **more)


async def _claim(db: Database) -> tuple[str, str | None, datetime | None]:
    async with db.session() as session:
        row = (await session.scalars(select(OutboxRow))).one()
        return row.state, row.owner, aware(row.lease_until) if row.lease_until else None


async def _channel_until(db: Database) -> datetime | None:
    async with db.session() as session:
        until = await session.scalar(
            select(ChannelLease.lease_until).where(ChannelLease.channel == CHANNEL)
        )
    return aware(until) if until else None


async def test_the_heartbeat_keeps_a_slow_send_with_its_process(db: Database) -> None:
    """Slack takes longer than a claim to answer: the heartbeat renews the message's claim and
    its channel's, so another replica's sweep takes neither while the sender lives."""
    clock, slow, other_slack = Clock(), SlowSlack(), FakeNotifier()
    mine = _outbox(db, slow, clock, "mine", lease_seconds=0.2)  # a beat every 0.05 s
    other = _outbox(db, other_slack, clock, "other", lease_seconds=0.2)
    mine.start_heartbeat()
    await mine.send([Reply(CHANNEL, "root", blocks.note("is live"))])
    await slow.posting.wait()
    assert await _claim(db) == ("sending", "mine", T0 + timedelta(seconds=0.2))

    clock.now = T0 + timedelta(seconds=5)  # the first claim ran out long ago
    renewed = clock.now + timedelta(seconds=0.2)
    await eventually(lambda: _renewed_to(db, renewed))
    await other.sweep()
    await other.idle()
    assert other_slack.calls == []  # still mine: nothing posted twice

    slow.answer.set()
    await mine.idle()
    assert slow.calls == [("post", "root", "is live")]
    assert (await _claim(db))[0] == State.SENT
    await mine.release()


async def _renewed_to(db: Database, until: datetime) -> bool:
    _, owner, claim_until = await _claim(db)
    return owner == "mine" and claim_until == until and await _channel_until(db) == until


async def test_without_a_heartbeat_the_claim_runs_out_and_another_replica_sends_it(
    db: Database,
) -> None:
    """The same slow send from a process that died (its heartbeat stopped): once the claim has
    run out, another replica's sweep takes the message, as unsure, and sends it."""
    clock, slow, other_slack = Clock(), SlowSlack(), FakeNotifier()
    dead = _outbox(db, slow, clock, "dead", lease_seconds=0.2)  # no heartbeat: it died
    other = _outbox(db, other_slack, clock, "other", lease_seconds=0.2)
    await dead.send([Reply(CHANNEL, "root", blocks.note("is live"))])
    await slow.posting.wait()
    await other.sweep()
    await other.idle()
    assert other_slack.calls == []  # the claim holds for its time
    clock.now = T0 + timedelta(seconds=0.3)
    await other.sweep()
    await other.idle()
    assert other_slack.calls == [("post", "root", "is live")]
    state, owner, _ = await _claim(db)
    assert (state, owner) == (State.SENT, "other")
    slow.answer.set()
    await dead.idle()


@pytest.fixture
async def replicas(postgres: str) -> AsyncIterator[tuple[Database, Database]]:
    """Two replicas' stores: one PostgreSQL (DEPLOYBOT_TEST_DATABASE_URL, required when
    CI=true), each with its own engine and connections, as two processes have."""
    one, two = Database(postgres), Database(postgres)
    await migrations.upgrade(one)
    yield one, two
    await one.close()
    await two.close()


async def test_two_replicas_share_the_workspaces_edit_budget_on_postgresql(
    replicas: tuple[Database, Database],
) -> None:
    """Two replicas taking edits at the same instant on one PostgreSQL spend one budget: a
    minute's worth at once between them (not each), then one an interval, whoever takes it;
    each edit taken by one replica only."""
    clock = Clock()
    one, two = (
        (
            Ledger(db, clock=clock, owner=owner, lease=timedelta(hours=1), retry_cap=CAP),
            EditBudget(db, clock=clock, per_minute=6),  # 6 at once, then one every 10 s
        )
        for db, owner in zip(replicas, ("one", "two"), strict=True)
    )
    outbox = _outbox(replicas[0], FakeNotifier(), clock, "one")
    async with replicas[0].transaction() as session:
        outbox.add([Edit(f"C{i}", f"root-{i}", blocks.note("live")) for i in range(20)])(session)

    async def at_once() -> list[str]:
        taken = await asyncio.gather(
            *(ledger.edits(10, sent=[], budget=budget) for ledger, budget in (one, two))
        )
        return [row.target_ts or "" for rows, _ in taken for row in rows]

    first = await at_once()
    assert len(first) == 6  # a minute's worth between them, not each
    assert await at_once() == []  # the clock stands: no room
    clock.now = T0 + timedelta(seconds=10)
    second = await at_once()
    assert len(second) == 1
    clock.now = T0 + timedelta(seconds=40)
    third = await at_once()
    assert len(third) == 3
    assert len(set(first + second + third)) == 10  # none taken twice
