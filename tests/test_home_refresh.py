"""The Home tab's refresh on a change: throttled, coalesced, for recent viewers only."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any, cast

from bot.config import Config
from bot.models import utcnow
from bot.store import Store
from bot.usecases.home import Showing


async def _whisper(channel: str, user: str, text: str, blocks: list[dict[str, Any]]) -> None:
    raise AssertionError("nothing to whisper here")


def _showing(published: list[str], every: float) -> Showing:
    async def publish(user: str, view: dict[str, Any]) -> None:
        assert view["type"] == "home"
        published.append(user)

    async def link(channel: str, ts: str) -> str | None:
        return None

    config = cast(Config, SimpleNamespace(apps={}, freezes=()))
    return Showing(
        config,
        {},
        cast(Store, None),
        utcnow,
        publish=publish,
        link=link,
        whisper=_whisper,
        every=every,
    )


async def test_changes_in_a_burst_make_one_refresh() -> None:
    published: list[str] = []
    home = _showing(published, every=0.2)
    await home.opened("U1")
    for _ in range(10):
        home.changed()
    await home.idle()
    assert published == ["U1", "U1"]  # opened, then one refresh for the ten changes


async def test_no_refresh_for_nobody() -> None:
    published: list[str] = []
    home = _showing(published, every=0)
    home.changed()
    await home.idle()
    assert published == []


async def test_stopping_drops_a_refresh_waiting_for_its_turn() -> None:
    published: list[str] = []
    home = _showing(published, every=3600)
    await home.opened("U1")
    home.changed()
    await home.idle()  # the first refresh goes at once
    home.changed()  # the last refresh was just now: this one waits an hour
    await asyncio.wait_for(home.stop(), timeout=5)
    assert published == ["U1", "U1"]


async def test_a_change_during_a_refresh_makes_another() -> None:
    """The refresh under way may have read the state before the change: one more follows."""
    published: list[str] = []
    drawing, go_on = asyncio.Event(), asyncio.Event()

    async def publish(user: str, view: dict[str, Any]) -> None:
        published.append(user)
        if len(published) == 2:  # the first refresh, held while a change comes in
            drawing.set()
            await go_on.wait()

    async def link(channel: str, ts: str) -> str | None:
        return None

    config = cast(Config, SimpleNamespace(apps={}, freezes=()))
    home = Showing(
        config, {}, cast(Store, None), utcnow, publish=publish, link=link, whisper=_whisper, every=0
    )
    await home.opened("U1")
    home.changed()
    await asyncio.wait_for(drawing.wait(), timeout=5)
    home.changed()
    go_on.set()
    await home.idle()
    assert published == ["U1", "U1", "U1"]
