"""An app is held by one row, across replicas: two bot instances on one PostgreSQL store, each
with its own per-process gate, given `/deploy web` at the same instant (or each starting the
next in line at the same instant) start exactly one deployment; the other waits in line."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot import config as configuration
from bot.runtime import Runtime
from bot.store import Store
from tests.conftest import ENVIRON, SIGNING_SECRET, eventually, settings_for, write_apps
from tests.fakes.clock import WallClock
from tests.fakes.server import serve
from tests.slack_client import SlackDriver

CHANNEL = "C0DEPLOYS"


@dataclass
class Replica:
    runtime: Runtime
    driver: SlackDriver


@pytest.fixture
async def replicas(
    tmp_path: Path, served_fakes: Any, postgres: str
) -> AsyncIterator[tuple[Replica, Replica]]:
    """Two bot instances, each with its own runtime and web listener, on one PostgreSQL."""
    _, slack, _, _, servers = served_fakes
    apps = write_apps(tmp_path, servers)
    settings = settings_for(tmp_path, servers, apps).model_copy(
        update={"deploybot_database_url": postgres}
    )
    config = configuration.load(settings, environ=ENVIRON)
    runtimes = [await Runtime.start(config, clock=WallClock()) for _ in range(2)]
    served = [await serve(runtime.web_app()) for runtime in runtimes]
    async with httpx.AsyncClient(timeout=10) as http:
        pair = [
            Replica(runtime, SlackDriver(s.url, SIGNING_SECRET, slack, http))
            for runtime, s in zip(runtimes, served, strict=True)
        ]
        # Slack gives each request its own trigger_id: two drivers counting from 1 in the same
        # millisecond would send the same one, and the bot rightly drops the second as a repeat.
        pair[1].driver._ids = itertools.count(1_000_000)
        yield pair[0], pair[1]
    for s in served:
        await s.close()
    for runtime in runtimes:
        await runtime.stop()


def _stale(
    store: Store, monkeypatch: pytest.MonkeyPatch, seen: Callable[[], Awaitable[bool]]
) -> None:
    """This replica read its app free just before the other one took it: its `busy` answers
    False once `seen()` (the other's write is in), as a read made a moment earlier would."""

    async def busy(app: str, *, line: bool = True) -> bool:
        await eventually(seen)
        return False

    monkeypatch.setattr(store.line, "busy", busy)


def _threads(slack: Any) -> list[str]:
    return ["\n".join(slack.texts_in_thread(CHANNEL, m.ts)) for m in slack.root_messages(CHANNEL)]


async def test_two_replicas_given_a_deploy_at_once_start_one(
    replicas: tuple[Replica, Replica], served_fakes: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The second replica saw `web` free at the instant the first took it: the first starts
    the deployment, the second's deploy waits in line, and starts once the first is live."""
    clock, slack, nometria, _, _ = served_fakes
    first, second = replicas

    async def taken() -> bool:
        return bool(await first.runtime.store.of_app("web"))

    _stale(second.runtime.store, monkeypatch, taken)
    sent = await asyncio.gather(
        first.driver.command("web", channel=CHANNEL, user="U0DEV"),
        second.driver.command("web", channel=CHANNEL, user="U0DEV2"),
    )
    assert [r.status_code for r in sent] == [200, 200]
    await eventually(lambda: sum("waits its turn" in t for t in _threads(slack)) == 1)
    await eventually(lambda: sum("Started" in t for t in _threads(slack)) == 1)
    await first.runtime.door.drain()
    await second.runtime.door.drain()
    assert len(nometria.requests_to("POST", "/v1/deployments")) == 1
    rows = await first.runtime.store.of_app("web")
    assert sorted((r.holds_app, r.waiting) for r in rows) == [(False, True), (True, False)]

    clock.advance(4)  # the first goes live; the one in line starts in its turn
    monkeypatch.undo()
    for _ in range(10):
        await first.runtime.jobs.poller.poll_once()
        if len(nometria.requests_to("POST", "/v1/deployments")) == 2:
            break
    assert len(nometria.requests_to("POST", "/v1/deployments")) == 2


async def test_two_replicas_starting_the_line_at_once_start_one(
    replicas: tuple[Replica, Replica], served_fakes: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two deploys wait behind one that just went live; both replicas' polls start the line at
    the same instant: one deploy leaves it and starts, the other stays in line."""
    clock, slack, nometria, _, _ = served_fakes
    first, second = replicas
    for text in ("web", "web a1b2c3d", "web b2c3d4e"):
        await first.driver.command(text, channel=CHANNEL)
        await eventually(lambda: slack.root_messages(CHANNEL))
        await first.runtime.door.drain()
    assert len(nometria.requests_to("POST", "/v1/deployments")) == 1
    _, next_one, last_one = sorted(await first.runtime.store.of_app("web"), key=lambda r: r.id)

    async def left() -> bool:
        row = await first.runtime.store.get(next_one.id)
        return row is not None and not row.waiting

    _stale(second.runtime.store, monkeypatch, left)
    clock.advance(4)
    await asyncio.gather(
        first.runtime.jobs.poller.poll_once(), second.runtime.jobs.poller.poll_once()
    )
    await first.runtime.door.drain()
    triggers = nometria.requests_to("POST", "/v1/deployments")
    assert [t.json.get("commit_sha") for t in triggers[1:]] == ["a1b2c3d"]
    last = await first.runtime.store.get(last_one.id)
    assert last is not None
    assert last.waiting
