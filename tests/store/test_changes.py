"""Status changes written together (bot/store/changes.py) and SQLite's writers taking turns
(bot/store/db.py): each change still decided once, on SQLite and PostgreSQL, by one replica
or two."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import event, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot import migrations
from bot.models import Kind, Status, Tracked
from bot.store import Store
from bot.store.db import Database, Turns
from bot.store.tables import Claim
from tests.conftest import postgres_schema

NOW = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "postgresql"])
async def url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    async with AsyncExitStack() as stack:
        if request.param == "sqlite":
            yield f"sqlite:///{tmp_path / 'store.db'}"
        else:
            yield await stack.enter_async_context(postgres_schema())


@pytest.fixture
async def replicas(url: str) -> AsyncIterator[tuple[Store, Store]]:
    """Two replicas' stores on one database, each with its own connections."""
    one, two = Database(url), Database(url)
    await migrations.upgrade(one)
    yield Store(one, clock=lambda: NOW, owner="one"), Store(two, clock=lambda: NOW, owner="two")
    await one.close()
    await two.close()


async def _track(store: Store, n: int) -> list[Tracked]:
    return [
        await store.track(
            kind=Kind.DEPLOY,
            app=f"app{i}",
            provider="nometria",
            deployment_id=f"d{i}",
            channel=f"C0{i}",
            root_ts="1.1",
            requester="U0DEV",
            ref=None,
            status=Status.BUILDING,
        )
        for i in range(n)
    ]


def _say(key: str) -> Callable[[AsyncSession], None]:
    """What a winner writes with its change (here a claim named `key`, in place of messages)."""
    return lambda session: session.add(Claim(key=key, created_at=NOW))


async def _said(store: Store) -> set[str]:
    async with store._db.session() as session:
        return set(await session.scalars(select(Claim.key)))


async def _live(store: Store, row: Tracked, key: str) -> bool:
    return await store.advance(
        row.id, expected=Status.BUILDING, new=Status.LIVE, bypassed=False, also=_say(key)
    )


async def test_changes_asked_together_share_one_transaction_and_each_is_won_once(
    replicas: tuple[Store, Store],
) -> None:
    """Ten rows go live at once, one of them asked twice: one commit, eleven answers, and the
    row asked twice is won by one request only, whose words alone are written."""
    store, _ = replicas
    rows = await _track(store, 10)
    commits: list[object] = []
    event.listen(store._db.engine.sync_engine, "commit", commits.append)
    won = await asyncio.gather(
        *(_live(store, row, f"r{row.id}") for row in rows), _live(store, rows[0], "again")
    )
    assert won == [True] * 10 + [False]
    assert len(commits) == 1
    assert await _said(store) == {f"r{row.id}" for row in rows}
    assert {r.status for r in await store.in_flight()} == set()  # all live: none in flight


async def test_two_replicas_racing_for_the_same_changes_win_each_row_once(
    replicas: tuple[Store, Store],
) -> None:
    """Both replicas see the same twenty rows go live at the same moment: every row is won by
    exactly one of them, and only the winner's words about it are written."""
    one, two = replicas
    rows = await _track(one, 20)
    won = await asyncio.gather(
        *(
            _live(store, row, f"{name}{row.id}")
            for row in rows
            for name, store in (("one", one), ("two", two))
        )
    )
    pairs = list(zip(won[::2], won[1::2], strict=True))
    assert all(a != b for a, b in pairs), pairs
    winners = {f"{'one' if a else 'two'}{row.id}" for row, (a, _) in zip(rows, pairs, strict=True)}
    assert await _said(one) == winners


async def test_a_change_that_cannot_be_written_does_not_hold_back_the_others(
    replicas: tuple[Store, Store],
) -> None:
    """One change's words cannot be written (a key already there): it fails alone, and the
    changes asked with it are written."""
    store, _ = replicas
    rows = await _track(store, 4)
    assert await store.claims.take("taken")
    results = await asyncio.gather(
        *(_live(store, row, "taken" if row is rows[1] else f"r{row.id}") for row in rows),
        return_exceptions=True,
    )
    assert [results[0], results[2], results[3]] == [True, True, True]
    assert isinstance(results[1], IntegrityError)
    assert await _said(store) == {"taken"} | {f"r{row.id}" for row in rows if row is not rows[1]}
    [left] = await store.in_flight()
    assert left.id == rows[1].id  # its status did not change without its words


async def _holding(turns: Turns, name: str, order: list[str], *, first: bool) -> None:
    async with turns.turn(first=first):
        order.append(name)
        await asyncio.sleep(0)


async def test_writers_asking_to_go_first_take_the_next_turns() -> None:
    """While one writer holds the turn, the `first` ones waiting go next, then the others, each
    kind in the order it came."""
    turns, order = Turns(), list[str]()
    async with turns.turn(first=False):
        tasks = [
            asyncio.create_task(_holding(turns, name, order, first=name.startswith("f")))
            for name in ("r1", "f1", "r2", "f2")
        ]
        await asyncio.sleep(0)  # every task is waiting for its turn
        assert order == []
    await asyncio.gather(*tasks)
    assert order == ["f1", "f2", "r1", "r2"]


async def test_a_writer_cancelled_as_it_is_given_the_turn_passes_it_on() -> None:
    """A cancelled waiter never keeps the turn: the next one gets it."""
    turns, order = Turns(), list[str]()
    async with turns.turn(first=False):
        cancelled = asyncio.create_task(_holding(turns, "gone", order, first=False))
        after = asyncio.create_task(_holding(turns, "next", order, first=False))
        await asyncio.sleep(0)
    cancelled.cancel()  # the turn was just handed to it: it must hand it on
    async with asyncio.timeout(5):  # not a measurement: a turn kept would wait forever
        await asyncio.gather(cancelled, after, return_exceptions=True)
        assert order == ["next"]
        async with turns.turn(first=True):  # free again
            pass
