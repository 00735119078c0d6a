"""Real `deploybot serve` processes stopped in the middle of a start: a SIGTERM (a rolling
restart) finishes the start, its trigger's retries included, before it exits; a `kill -9`
leaves it to the next process, which adopts what the provider has from it, or ends it as not
started, frees the app and says so in the thread."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import SIGNING_SECRET, eventually, write_apps
from tests.processes import BotProcess, start_bot
from tests.slack_client import SlackDriver

# Real processes, a trigger that takes 12 s: CI runs these with `-m slow` (README, Tests).
pytestmark = pytest.mark.slow

CHANNEL = "C0DEPLOYS"
TRIGGER = "/v1/deployments"


@pytest.fixture
def fakes_start() -> float:
    """The providers' clock starts at the bot's: a crashed start is matched by time."""
    return time.time()


def _threads(slack: Any) -> dict[str, str]:
    return {
        root.ts: "\n".join(slack.texts_in_thread(CHANNEL, root.ts))
        for root in slack.root_messages(CHANNEL)
    }


def _said(slack: Any, words: str) -> list[str]:
    """The roots whose thread says `words`."""
    return [ts for ts, text in _threads(slack).items() if words in text]


async def _command(bot: BotProcess, slack: Any, text: str) -> None:
    async with httpx.AsyncClient(timeout=10) as http:
        driver = SlackDriver(bot.url, SIGNING_SECRET, slack, http)
        assert (await driver.command(text, channel=CHANNEL)).status_code == 200


def _common(tmp_path: Path, servers: Any) -> dict[str, Any]:
    return {
        "apps": write_apps(tmp_path, servers),
        "slack_url": servers["slack"].url,
        "database_url": f"sqlite:///{tmp_path / 'deploybot.db'}",
    }


async def test_a_sigterm_during_a_slow_trigger_finishes_the_start(
    tmp_path: Path, served_fakes: Any
) -> None:
    """The trigger takes 12 s (a 429 asking for 5 s, then 7 s to answer), longer than the 10 s
    a stop used to wait: the process finishes the start, exits 0, and the next follows it."""
    clock, slack, nometria, _, servers = served_fakes
    nometria.inject(429, {"error": "slow down"}, {"Retry-After": "5"}, path_contains=TRIGGER)
    nometria.answer_late(7, method="POST", path_contains=TRIGGER)
    first = await start_bot(tmp_path, name="first", **_common(tmp_path, servers))
    try:
        await _command(first, slack, "web")
        await eventually(lambda: nometria.requests_to("POST", TRIGGER))
        first.process.terminate()  # as a rolling restart does, mid-trigger
        assert await asyncio.wait_for(first.process.wait(), 60) == 0
    finally:
        await first.kill()
    [dep] = nometria.deployments
    assert _said(slack, f"Started `{dep}`"), first.output()
    assert "Traceback" not in first.output()
    second = await start_bot(tmp_path, name="second", **_common(tmp_path, servers))
    try:
        clock.advance(4)
        await eventually(lambda: _said(slack, "web is live"))
    finally:
        await second.stop()


async def test_a_kill_after_the_trigger_reached_the_provider_is_adopted(
    tmp_path: Path, served_fakes: Any
) -> None:
    """kill -9 while Nometria answers the trigger: the next process finds the deployment in
    Nometria's list, says so in the thread, and follows it to live."""
    clock, slack, nometria, _, servers = served_fakes
    nometria.answer_late(12, method="POST", path_contains=TRIGGER)
    first = await start_bot(tmp_path, name="first", **_common(tmp_path, servers))
    try:
        await _command(first, slack, "web")
        await eventually(lambda: nometria.deployments)
    finally:
        await first.kill()
    second = await start_bot(tmp_path, name="second", **_common(tmp_path, servers))
    try:
        [dep] = nometria.deployments
        await eventually(lambda: _said(slack, f"`{dep}` is followed here from now on"))
        clock.advance(4)
        await eventually(lambda: _said(slack, "web is live"))
        await _command(second, slack, "web")  # the app is free again: it starts at once
        await eventually(lambda: len(nometria.deployments) == 2)
    finally:
        await second.stop()


async def test_a_kill_before_the_trigger_ends_the_start_and_frees_the_app(
    tmp_path: Path, served_fakes: Any
) -> None:
    """kill -9 while the root is being posted, before anything is triggered: the next process
    says in a thread that nothing was deployed, and the app deploys again at once."""
    _, slack, nometria, _, servers = served_fakes
    slack.hold("chat.postMessage")  # the root is posted; its answer never reaches the bot
    first = await start_bot(tmp_path, name="first", **_common(tmp_path, servers))
    try:
        await _command(first, slack, "web")
        await eventually(lambda: slack.root_messages(CHANNEL))
    finally:
        await first.kill()
        slack.release()
    second = await start_bot(tmp_path, name="second", **_common(tmp_path, servers))
    try:
        await eventually(lambda: _said(slack, "nothing was deployed"))
        assert nometria.requests_to("POST", TRIGGER) == []
        await _command(second, slack, "web")
        await eventually(lambda: _said(slack, "Started"))
        assert len(nometria.requests_to("POST", TRIGGER)) == 1
    finally:
        await second.stop()
