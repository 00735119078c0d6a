"""The Home tab's redraws on a change: coalesced per viewer, for recent viewers only, within the
views.publish budget, across replicas (two `Showing`s on one store)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any, cast

import pytest

from bot.config import Config
from bot.store import Store
from bot.store.db import Database
from bot.store.viewers import Bucket, HomeViewers
from bot.usecases.home import Showing
from bot.usecases.home_apps import Permalinks
from tests.conftest import eventually
from tests.fakes.clock import WallClock


async def _whisper(channel: str, user: str, text: str, blocks: list[dict[str, Any]]) -> None:
    raise AssertionError("nothing to whisper here")


async def _no_link(channel: str, ts: str) -> str | None:
    return None


def _showing(
    db: Database,
    published: list[str],
    every: float,
    *,
    clock: WallClock | None = None,
    publish: Any = None,
    viewers_for: float = 1800.0,
    per_minute: float = 100.0,
    viewers: HomeViewers | None = None,
) -> Showing:
    async def record(user: str, view: dict[str, Any]) -> None:
        assert view["type"] == "home"
        published.append(user)

    clock = clock or WallClock()
    config = cast(Config, SimpleNamespace(apps={}, freezes=()))
    return Showing(
        config,
        {},
        cast(Store, None),
        clock,
        viewers=viewers or HomeViewers(db, clock=clock),
        publish=publish or record,
        link=_no_link,
        whisper=_whisper,
        every=every,
        viewers_for=viewers_for,
        per_minute=per_minute,
    )


async def test_changes_in_a_burst_make_one_refresh(db: Database) -> None:
    published: list[str] = []
    home = _showing(db, published, every=0.2)
    await home.opened("U1")
    for _ in range(10):
        home.changed()
    await asyncio.wait_for(home.idle(), timeout=5)
    assert published == ["U1", "U1"]  # opened, then one refresh for the ten changes


async def test_no_refresh_for_nobody(db: Database) -> None:
    published: list[str] = []
    home = _showing(db, published, every=0)
    home.changed()
    await home.idle()
    assert published == []


async def test_stopping_drops_a_refresh_waiting_for_its_turn(db: Database) -> None:
    published: list[str] = []
    home = _showing(db, published, every=3600)
    await home.opened("U1")
    home.changed()  # drawn just now: this one waits an hour
    await asyncio.wait_for(home.stop(), timeout=5)
    assert published == ["U1"]


async def test_a_change_during_a_refresh_makes_another(db: Database) -> None:
    """The refresh under way may have read the state before the change: one more follows."""
    published: list[str] = []
    drawing, go_on = asyncio.Event(), asyncio.Event()

    async def publish(user: str, view: dict[str, Any]) -> None:
        published.append(user)
        if len(published) == 2:  # the first refresh, held while a change comes in
            drawing.set()
            await go_on.wait()

    home = _showing(db, published, every=0, publish=publish)
    await home.opened("U1")
    home.changed()
    await asyncio.wait_for(drawing.wait(), timeout=5)
    home.changed()
    go_on.set()
    await asyncio.wait_for(home.idle(), timeout=5)
    assert published == ["U1", "U1", "U1"]


async def test_only_recent_viewers_are_redrawn(db: Database) -> None:
    clock = WallClock()
    published: list[str] = []
    home = _showing(db, published, every=0, clock=clock, viewers_for=60)
    await home.opened("U0OLD")
    clock.offset += timedelta(minutes=5)  # U0OLD opened it five minutes ago
    await home.opened("U0NEW")
    home.changed()
    await asyncio.wait_for(home.idle(), timeout=5)
    assert published == ["U0OLD", "U0NEW", "U0NEW"]


async def test_a_change_another_replica_saw_redraws_whoever_opened_it_here(db: Database) -> None:
    published: list[str] = []
    one, two = _showing(db, published, every=0), _showing(db, published, every=0)
    viewers = [f"U{i:02d}" for i in range(10)]
    for user in viewers:
        await one.opened(user)
    published.clear()

    two.changed()  # the deployment that changed is followed by the other replica
    await asyncio.wait_for(two.idle(), timeout=10)

    assert sorted(published) == viewers


async def test_two_replicas_catching_up_at_once_draw_each_viewer_once(db: Database) -> None:
    published: list[str] = []
    one, two = _showing(db, published, every=0), _showing(db, published, every=0)
    viewers = [f"U{i:02d}" for i in range(10)]
    for user in viewers:
        await one.opened(user)
    published.clear()
    await HomeViewers(db, clock=WallClock()).changed()

    await asyncio.wait_for(asyncio.gather(one._catch_up(), two._catch_up()), timeout=10)

    assert sorted(published) == viewers


async def test_redraws_keep_to_the_budget_across_replicas(db: Database) -> None:
    """30 viewers behind, two replicas, a budget of 60 a minute (a burst of 12, then 0.8 a
    second): a change redraws 12 at once, the rest at the budget's pace, not Slack's 429s.
    The clock stands still unless the test moves it, so the counts are exact."""
    clock = WallClock()
    clock.stopped = datetime(2026, 1, 1, tzinfo=UTC)
    published: list[str] = []
    one, two = (
        _showing(db, published, every=0, per_minute=60.0, clock=clock),
        _showing(db, published, every=0, per_minute=60.0, clock=clock),
    )
    viewers = HomeViewers(db, clock=clock)
    for i in range(30):
        await viewers.opened(f"U{i:02d}", 0)  # opened (and drawn) by a replica long gone

    one.changed()
    two.changed()
    await eventually(lambda: len(published) >= 12)
    assert len(published) == 12  # the burst, between the two; no time passes, no more
    clock.offset += timedelta(seconds=2.5)  # two tokens' worth (0.8 a second)
    await eventually(lambda: len(published) >= 14)
    await asyncio.gather(one.stop(), two.stop())
    assert len(published) == 14  # two more tokens, two more drawings, however the change fell


async def test_the_budget_is_one_bucket_for_every_replica(db: Database) -> None:
    """What one replica spent, the other cannot: on a clock that stands still between the
    spends, so the figures are exact."""
    clock = WallClock()
    clock.stopped = datetime(2026, 1, 1, tzinfo=UTC)
    one, two = HomeViewers(db, clock=clock), HomeViewers(db, clock=clock)
    bucket = Bucket("views.publish", burst=12, per_minute=48)  # 0.8 a second

    assert await one.spend(bucket, 8) == (8, 0.0)
    granted, wait = await two.spend(bucket, 8)
    assert granted == 4
    assert wait == pytest.approx(1 / 0.8)  # the next token, 1.25 s on
    granted, wait = await one.spend(bucket, 1)
    assert granted == 0  # nothing yet, for either
    assert wait == pytest.approx(1 / 0.8)
    clock.offset += timedelta(seconds=2.5)  # two tokens' worth
    assert (await one.spend(bucket, 8))[0] == 2
    assert (await two.spend(bucket, 1, force=True))[0] == 1  # a person waiting: always


class FailingViewers(HomeViewers):
    """The store fails while the viewers behind a change are read."""

    async def behind(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("the store went away")


async def test_a_redraw_that_fails_in_the_background_is_logged(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    """Nobody awaits a change's redraw: what fails there is logged with its traceback, and the
    next change tries again."""
    clock = WallClock()
    showing = _showing(db, [], every=0, viewers=FailingViewers(db, clock=clock))
    showing.changed()
    await showing.idle()
    [record] = [r for r in caplog.records if "redrawing the Home tabs" in r.getMessage()]
    assert record.levelname == "ERROR"
    assert record.exc_info is not None
    assert "the store went away" in str(record.exc_info[1])
    showing.changed()  # not stuck: the next change runs again, and fails the same
    await showing.idle()
    assert sum("redrawing the Home tabs" in r.getMessage() for r in caplog.records) == 2


async def test_a_permalink_is_asked_once() -> None:
    asked: list[tuple[str, str]] = []

    async def link(channel: str, ts: str) -> str | None:
        asked.append((channel, ts))
        return f"https://acme.slack.com/archives/{channel}/p{ts}" if ts != "gone" else None

    links = Permalinks(link, kept=2)
    for _ in range(3):
        assert await links("C1", "1.0") == "https://acme.slack.com/archives/C1/p1.0"
        assert await links("C1", "gone") is None  # not remembered: Slack may answer later
    assert asked == [("C1", "1.0"), ("C1", "gone"), ("C1", "gone"), ("C1", "gone")]
