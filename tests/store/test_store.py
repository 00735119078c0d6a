"""The store's typed methods on SQLite: frozen rows out, each change decided once."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from bot import migrations
from bot.models import AppLock, Approval, AuditEntry, Kind, Status, Tracked
from bot.store import Store
from bot.store.db import Database
from bot.store.tables import Claim


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 1, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def store(tmp_path: Path, clock: Clock) -> AsyncIterator[Store]:
    db = Database(f"sqlite:///{tmp_path / 'store.db'}")
    await migrations.upgrade(db)
    yield Store(db, clock=clock, owner="one", lease_seconds=30)
    await db.close()


async def _track(store: Store, **changes: object) -> Tracked:
    fields: dict[str, object] = {
        "kind": Kind.DEPLOY,
        "app": "web",
        "provider": "stormkit",
        "deployment_id": "42",
        "channel": "C0DEPLOYS",
        "root_ts": "1.1",
        "requester": "U0DEV",
        "ref": "main",
        "status": Status.QUEUED,
        "approval": Approval.PENDING,
    }
    return await store.track(**{**fields, **changes})  # type: ignore[arg-type]


async def test_a_tracked_row_comes_back_frozen_and_typed(store: Store, clock: Clock) -> None:
    """What goes in as enums comes out as enums; nobody edits a row in memory."""
    row = await _track(store, env={"A": "1"})
    again = await store.get(row.id)
    assert again == row
    assert again.status is Status.QUEUED
    assert again.approval is Approval.PENDING
    assert again.kind is Kind.DEPLOY
    assert again.created_at == clock.now
    assert store.overrides(again) == {"A": "1"}
    with pytest.raises(dataclasses.FrozenInstanceError):
        again.status = Status.LIVE  # type: ignore[misc]


async def test_a_status_changes_once_and_its_messages_go_with_it(store: Store) -> None:
    """Two pollers see the same change: only the first writes it, and only its messages."""
    row = await _track(store)
    written: list[str] = []

    def also(name: str) -> Callable[[AsyncSession], None]:
        def add(session: AsyncSession) -> None:
            session.add(Claim(key=name, created_at=datetime.now(UTC)))
            written.append(name)

        return add

    first = await store.advance(
        row.id, expected=Status.QUEUED, new=Status.LIVE, bypassed=True, also=also("first")
    )
    second = await store.advance(
        row.id, expected=Status.QUEUED, new=Status.LIVE, bypassed=True, also=also("second")
    )
    assert (first, second) == (True, False)
    assert written == ["first"]
    now = await store.get(row.id)
    assert now is not None
    assert (now.status, now.approval) == (Status.LIVE, Approval.BYPASSED)
    assert not await store.claims.take("first")  # it was written in the winning transaction


async def test_an_approval_is_decided_once_and_can_be_reopened(store: Store) -> None:
    """A second click loses; a decision whose action failed goes back to pending."""
    row = await _track(store)
    assert await store.decide(row.id, decision=Approval.APPROVED, user="U0LEAD")
    assert not await store.decide(row.id, decision=Approval.DISCARDED, user="U0DEV")
    decided = await store.get(row.id)
    assert decided is not None
    assert (decided.approval, decided.approved_by) == (Approval.APPROVED, "U0LEAD")
    await store.reopen(row.id, decision=Approval.APPROVED)
    reopened = await store.get(row.id)
    assert reopened is not None
    assert (reopened.approval, reopened.approved_by) == (Approval.PENDING, None)


async def test_a_lease_keeps_other_replicas_out_until_it_runs_out(
    store: Store, clock: Clock
) -> None:
    """A second replica gets nothing while the first holds the lease, and all once it lapses."""
    row = await _track(store)
    assert [r.id for r in await store.leases.take("one", seconds=30)] == [row.id]
    assert await store.leases.take("two", seconds=30) == []
    clock.now += timedelta(seconds=31)
    assert [r.id for r in await store.leases.take("two", seconds=30)] == [row.id]


async def test_a_tick_that_ends_renews_the_lease_it_took(store: Store, clock: Clock) -> None:
    """A long tick keeps what it polls: renewing moves the lease on from the tick's end."""
    row = await _track(store)
    await store.leases.take("one", seconds=2)
    clock.now += timedelta(seconds=1.5)
    await store.leases.renew("one", seconds=2)
    clock.now += timedelta(seconds=1)  # 2.5 s after the lease was taken, 1 s after its renewal
    assert await store.leases.take("two", seconds=2) == []
    clock.now += timedelta(seconds=1.5)
    assert [r.id for r in await store.leases.take("two", seconds=2)] == [row.id]


async def test_a_released_lease_is_taken_at_once_by_another_replica(store: Store) -> None:
    """A graceful stop hands over what the replica polls: no wait for its lease to run out."""
    running = await _track(store)
    await _track(store, deployment_id="43", status=Status.LIVE)  # tracked by "one" too
    await store.leases.take("one", seconds=30)
    assert await store.leases.release("one") == 1  # the finished one is not handed over
    assert [r.id for r in await store.leases.take("two", seconds=30)] == [running.id]


async def test_finished_untriggered_and_abandoned_rows_are_not_in_flight(store: Store) -> None:
    """Only what is running and triggered is polled; giving up on one is said once."""
    live = await _track(store, status=Status.LIVE)
    waiting = await _track(store, deployment_id=None)
    stuck = await _track(store)
    assert await store.abandon(stuck.id, also=lambda session: None)
    assert not await store.abandon(stuck.id, also=lambda session: None)  # said once
    building = await _track(store, status=Status.BUILDING)
    assert [r.id for r in await store.in_flight()] == [building.id]
    assert {live.id, waiting.id}.isdisjoint(r.id for r in await store.in_flight())


async def test_a_lock_is_a_frozen_value(store: Store) -> None:
    """The policy gets a value, not the store's row; unlocking twice unlocks once."""
    await store.locks.lock("web", reason="freeze", user="U0DEV", channel="C0DEPLOYS")
    assert await store.locks.get("web") == AppLock("web", "freeze", "U0DEV", "C0DEPLOYS")
    assert await store.locks.unlock("web")
    assert await store.locks.get("web") is None
    assert not await store.locks.unlock("web")


async def test_the_audit_keeps_the_newest_first_with_the_clocks_time(
    store: Store, clock: Clock
) -> None:
    """`status` shows the newest actions first, timed by the injected clock."""
    for action in ("deploy", "approve"):
        await store.audit.write(AuditEntry("U0DEV", action, "web", "C0DEPLOYS", "ok"))
    rows = await store.audit.recent("web")
    assert [r.action for r in rows] == ["approve", "deploy"]
    assert rows[0].at == clock.now


async def test_an_app_is_busy_while_a_deploy_runs_waits_for_approval_or_waits_in_line(
    store: Store,
) -> None:
    assert not await store.line.busy("web")
    running = await _track(store, approval=None)
    assert await store.line.busy("web")
    assert not await store.line.busy("docs")  # per app
    await store.advance(
        running.id, expected=Status.QUEUED, new=Status.LIVE, bypassed=False, also=lambda _: None
    )
    assert not await store.line.busy("web")
    pending = await _track(store, deployment_id=None)  # a Nometria deploy awaiting approval
    assert await store.line.busy("web")
    await store.drop_untriggered(pending.id)
    assert not await store.line.busy("web")

    first = await _track(store, deployment_id=None, approval=None, waiting=True)
    second = await _track(store, deployment_id=None, approval=None, waiting=True, app="docs")
    third = await _track(store, deployment_id=None, approval=None, waiting=True)
    assert await store.line.busy("web")
    assert not await store.line.busy("web", line=False)  # the line alone: its head may start
    assert [r.id for r in await store.line.waiting("web")] == [first.id, third.id]
    assert [r.id for r in await store.line.waiting()] == [first.id, second.id, third.id]


async def test_a_deploy_leaves_the_line_once(store: Store) -> None:
    row = await _track(store, deployment_id=None, approval=None, waiting=True, env={"A": "1"})
    assert await store.line.leave(row.id, status=Status.QUEUED, approval=Approval.PENDING)
    assert not await store.line.leave(row.id, status=Status.STOPPED)  # a cancel came too late
    taken = await store.get(row.id)
    assert taken is not None
    assert (taken.waiting, taken.status, taken.approval) == (False, Status.QUEUED, Approval.PENDING)
    assert store.overrides(taken) == {"A": "1"}  # kept (sealed) until it is triggered
    assert await store.line.busy("web", line=False)  # a start under way holds the app
    cancelled = await _track(store, deployment_id=None, approval=None, waiting=True, env={"A": "1"})
    assert await store.line.leave(cancelled.id, status=Status.STOPPED)
    gone = await store.get(cancelled.id)
    assert gone is not None
    assert (gone.status, gone.env) == (Status.STOPPED, {})  # overrides forgotten


async def test_in_flight_of_one_app(store: Store) -> None:
    mine = await _track(store)
    await _track(store, app="docs")
    await _track(store, deployment_id=None, waiting=True)
    assert [r.id for r in await store.line.in_flight_of("web")] == [mine.id]


def _start(store: Store) -> Any:
    return store.slots.take(
        app="web", provider="stormkit", channel="C0DEPLOYS", root_ts="", requester="U0DEV", ref=None
    )


async def test_an_app_is_held_by_one_row_until_its_end(store: Store) -> None:
    """Taking an app is a compare-and-set: a second start, or a deploy leaving the line, finds it
    held until the holder's final status (written with it) lets it go."""
    first = await _start(store)
    assert first is not None
    assert first.holds_app
    assert await _start(store) is None
    waiting = await _track(store, deployment_id=None, waiting=True)
    assert not await store.line.leave(waiting.id, status=Status.QUEUED)
    assert await store.triggered(first.id, deployment_id="42", status=Status.QUEUED)
    assert await _start(store) is None  # triggered, still under way
    lost = await store.advance(
        first.id, expected=Status.QUEUED, new=Status.FAILED, bypassed=False, also=lambda _: None
    )
    assert lost
    assert await store.line.leave(waiting.id, status=Status.QUEUED)
    assert (await store.get(waiting.id)).holds_app  # type: ignore[union-attr]


async def test_a_start_whose_lease_runs_out_is_recovered_once(store: Store, clock: Clock) -> None:
    """A start is recovered only once its process stopped renewing it; it is ended (or adopted)
    once, and a trigger recorded after that is refused."""
    row = await _start(store)
    assert row is not None
    later = clock.now + timedelta(days=1)  # no approval goes stale here
    assert (await store.slots.stuck(later - timedelta(days=2))).starts == []
    clock.now += timedelta(seconds=31)
    [crashed] = (await store.slots.stuck(later - timedelta(days=2))).starts
    assert crashed.id == row.id
    assert await store.slots.not_started(row.id, also=lambda _: None)
    assert not await store.slots.not_started(row.id, also=lambda _: None)
    assert not await store.slots.adopt(row.id, deployment_id="42", also=lambda _: None)
    assert not await store.triggered(row.id, deployment_id="42", status=Status.QUEUED)
    assert await _start(store) is not None  # the app is free
