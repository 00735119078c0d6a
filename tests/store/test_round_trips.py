"""Store round trips of the poller, counted through SQLAlchemy's engine events on the real
path (signed commands in, fake providers polled, fake Slack out): status changes found in one
tick share one write transaction, and a tick where nothing changed writes only its lease."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine

from bot.store import changes
from tests.conftest import World, eventually

N = 12  # deployments that change status in the same tick, each in its own channel


@pytest.fixture(autouse=True)
def _one_group_per_tick(monkeypatch: pytest.MonkeyPatch) -> None:
    """The tick's changes all land within the group's window, however slow the machine."""
    monkeypatch.setattr(changes, "WINDOW", 0.5)


def _app(i: int) -> str:
    return f"burst{i:02d}"


def _channel(i: int) -> str:
    return f"C0BURST{i:02d}"


@pytest.fixture
def apps_extra() -> str:
    return "".join(
        f'\n[apps.{_app(i)}]\nprovider = "stormkit"\nenv_id = "305"\n'
        if i % 2
        else f'\n[apps.{_app(i)}]\nprovider = "nometria"\nproject_id = "proj_b{i:02d}"\n'
        for i in range(N)
    )


@dataclass
class Trips:
    """What the store was sent, from SQLAlchemy's engine events: statements on the
    deployments table by verb, and the transactions that wrote it."""

    statements: Counter[str] = field(default_factory=Counter)
    writes: int = 0  # committed transactions that changed the deployments table
    outbox_inserts: int = 0  # messages queued (the outbox's own delivery statements aside)
    _dirty: set[int] = field(default_factory=set)

    def executed(self, conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        verb = statement.split(None, 1)[0].upper()
        self.outbox_inserts += statement.startswith("INSERT INTO outbox ")
        if " deployments" in statement:
            self.statements[verb] += 1
            if verb in {"UPDATE", "INSERT", "DELETE"}:
                self._dirty.add(id(conn))

    def committed(self, conn: Any) -> None:
        if id(conn) in self._dirty:
            self._dirty.discard(id(conn))
            self.writes += 1

    def rolled_back(self, conn: Any) -> None:
        self._dirty.discard(id(conn))


@contextmanager
def counting(engine: Engine) -> Iterator[Trips]:
    trips = Trips()
    listeners: list[tuple[str, Callable[..., None]]] = [
        ("before_cursor_execute", trips.executed),
        ("commit", trips.committed),
        ("rollback", trips.rolled_back),
    ]
    for name, listener in listeners:
        event.listen(engine, name, listener)
    try:
        yield trips
    finally:
        for name, listener in listeners:
            event.remove(engine, name, listener)


def _thread(world: World, i: int) -> list[str]:
    roots = world.slack.root_messages(_channel(i))
    return world.slack.texts_in_thread(_channel(i), roots[0].ts) if roots else []


async def _all_started(world: World) -> None:
    for i in range(N):
        response = await world.driver.command(_app(i), channel=_channel(i))
        assert response.status_code == 200
    await eventually(lambda: all(any("Started" in t for t in _thread(world, i)) for i in range(N)))


async def test_a_tick_where_nothing_changed_writes_its_lease_only(world: World) -> None:
    """N deployments in flight, none changed: one write (the lease), no read per row."""
    await _all_started(world)
    await world.tick(0)  # Stormkit's builds show they are running: said once
    with counting(world.runtime.db.engine.sync_engine) as trips:
        await world.tick(0)
    assert trips.writes == 1, trips
    # The lease returns the rows it holds; the reads: one for stuck rows (starts a crash cut
    # short, lost prompts, stale approvals: bot/usecases/recover.py), one of the line.
    assert trips.statements == {"UPDATE": 1, "SELECT": 2}, trips
    assert trips.outbox_inserts == 0, trips


async def test_status_changes_of_one_tick_share_their_transactions(world: World) -> None:
    """N deployments change status in one tick: their compare-and-sets and messages go in one
    transaction, and each thread hears its change exactly once."""
    await _all_started(world)
    with counting(world.runtime.db.engine.sync_engine) as trips:
        await world.tick(3)  # every build is done on the providers' clock
    for i in range(N):
        # Started, then one reply (Nometria: live; Stormkit: the newest publication wins).
        assert len(_thread(world, i)) == 2, _thread(world, i)
        assert "is live" in _thread(world, i)[-1] or "is built" in _thread(world, i)[-1]
    # Before: a transaction per status change (N + 2 in all, with the tick's lease and its
    # renewal). Now the lease, then the changes together (a short tick renews nothing at its
    # end), with one UPDATE per kind of change: Nometria's queued -> live, Stormkit's -> ready.
    assert trips.writes == 2, trips
    assert trips.statements == {"UPDATE": 1 + 2, "SELECT": 2}, trips  # stuck rows, the line
    assert trips.outbox_inserts == 2 * N, trips  # a reply and a root edit each, once
