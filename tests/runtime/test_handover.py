"""Handing deployments over between real `deploybot serve` processes, timed in poll intervals.

A SIGTERM (every upgrade) releases what the process holds: the next one polls it on its first
tick. A `kill -9` releases nothing: another replica polls its deployments once their lease (two
intervals) has run out, within three intervals of the kill; and sends the messages it had
claimed once their claim (two intervals, no longer renewed by its heartbeat) has run out, the
same.

`DEPLOYBOT_TEST_HANDOVER_INTERVALS=10 ./dev pytest tests/runtime/test_handover.py` measures
the default.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from tests.conftest import SIGNING_SECRET, eventually, write_apps
from tests.fakes.nometria import FakeNometria
from tests.processes import BotProcess, sending_post, sent_by, start_bot
from tests.slack_client import SlackDriver

# Real processes, timed in poll intervals: CI runs these with `-m slow` (README, Tests).
pytestmark = pytest.mark.slow

log = logging.getLogger(__name__)  # the measured handovers: pytest -o log_cli=true
CHANNEL = "C0DEPLOYS"
INTERVALS = [
    float(i) for i in os.environ.get("DEPLOYBOT_TEST_HANDOVER_INTERVALS", "0.3 1.5").split()
]
# What a busy two-core machine adds to a tick (a process's scheduling, a query), in seconds.
SLACK = 0.5


def _replies(slack: Any) -> dict[str, list[str]]:
    return {
        root.ts: slack.texts_in_thread(CHANNEL, root.ts) for root in slack.root_messages(CHANNEL)
    }


def _ended_once(slack: Any, n: int) -> bool:
    threads = _replies(slack)
    return len(threads) == n and all(t and "is live" in t[-1] for t in threads.values())


def _assert_nothing_doubled(slack: Any) -> None:
    for texts in _replies(slack).values():
        doubled = [text for text, n in Counter(texts).items() if n > 1]
        assert doubled == [], f"announced twice: {doubled}"
        assert sum("is live" in text for text in texts) == 1


def _polled_since(nometria: FakeNometria, since: int) -> set[str]:
    """The deployments someone asked Nometria about after its request number `since`."""
    return {
        r.path.rsplit("/", 1)[-1]
        for r in nometria.requests[since:]
        if r.method == "GET" and r.path.startswith("/v1/deployments/")
    }


async def _handover(nometria: FakeNometria, ids: set[str], since: int, start: float) -> float:
    """Seconds from `start` until each of `ids` was polled after request number `since`."""
    await eventually(lambda: ids <= _polled_since(nometria, since), within=60)
    return time.monotonic() - start


async def _deploy(bot: BotProcess, slack: Any, texts: list[str], nometria: FakeNometria) -> None:
    async with httpx.AsyncClient(timeout=10) as http:
        driver = SlackDriver(bot.url, SIGNING_SECRET, slack, http)
        for text in texts:
            assert (await driver.command(text, channel=CHANNEL)).status_code == 200
    await eventually(
        lambda: (
            len(nometria.deployments) == len(texts)
            and set(nometria.deployments) <= _polled_since(nometria, 0)
        ),
    )


def _sqlite_owners(db: Path) -> list[str | None]:
    with sqlite3.connect(db) as conn:
        return [owner for (owner,) in conn.execute("SELECT owner FROM deployments")]


@pytest.mark.parametrize("interval", INTERVALS)
async def test_sigterm_hands_every_deployment_to_the_next_process_at_once(
    tmp_path: Path, served_fakes: Any, interval: float
) -> None:
    """Stopped mid-build, a process releases its leases, logs no error and exits 0; the next
    polls each deployment within one or two intervals of starting."""
    clock, slack, nometria, _, servers = served_fakes
    db = tmp_path / "deploybot.db"
    common = {
        "apps": write_apps(tmp_path, servers),
        "slack_url": servers["slack"].url,
        "database_url": f"sqlite:///{db}",
        "DEPLOYBOT_POLL_INTERVAL": str(interval),
    }
    first = await start_bot(tmp_path, name="first", **common)
    try:
        await _deploy(first, slack, ["web", "vault a1b2c3d"], nometria)
    finally:
        await first.stop()
    assert first.process.returncode == 0
    out = first.output()
    assert "ERROR" not in out, out
    assert "Traceback" not in out, out
    assert "handed over 2 deployments" in out
    assert out.count("store created at schema") == 1  # upgraded at start, in one line
    assert _sqlite_owners(db) == [None, None]

    since = len(nometria.requests)
    second = await start_bot(tmp_path, name="second", **common)  # its scheduler runs already
    try:
        took = await _handover(nometria, set(nometria.deployments), since, time.monotonic())
        log.warning(
            "SIGTERM handover at %ss: %.2fs = %.2f intervals", interval, took, took / interval
        )
        assert took <= 2 * interval + SLACK
        assert second.output().count("store schema") == 1  # "... is current"
        clock.advance(4)
        await eventually(lambda: _ended_once(slack, 2), within=30)
    finally:
        await second.stop()
    _assert_nothing_doubled(slack)


async def _owners(url: str) -> dict[str, str]:
    async with await psycopg.AsyncConnection.connect(url) as conn:
        rows = await conn.execute("SELECT deployment_id, owner FROM deployments")
        return {str(dep): str(owner) for dep, owner in await rows.fetchall()}


@pytest.mark.parametrize("interval", INTERVALS)
async def test_a_killed_replicas_deployments_are_polled_within_three_intervals(
    tmp_path: Path, served_fakes: Any, postgres: str, interval: float
) -> None:
    """kill -9 on one of two replicas mid-build: the other polls its deployments within three
    intervals of the kill, and every thread ends once."""
    clock, slack, nometria, _, servers = served_fakes
    common = {
        "apps": write_apps(tmp_path, servers),
        "slack_url": servers["slack"].url,
        "database_url": postgres,
        "DEPLOYBOT_POLL_INTERVAL": str(interval),
    }
    first = await start_bot(tmp_path, name="first", **common)
    second = await start_bot(tmp_path, name="second", **common)
    try:
        await _deploy(first, slack, ["web", "vault a1b2c3d"], nometria)
        owners = await _owners(postgres)
        held = {dep for dep, owner in owners.items() if f":{first.process.pid}:" in owner}
        assert held, (owners, first.output())
        await first.kill()
        since, killed = len(nometria.requests), time.monotonic()
        took = await _handover(nometria, held, since, killed)
        log.warning(
            "kill -9 handover at %ss: %.2fs = %.2f intervals", interval, took, took / interval
        )
        assert took <= 3 * interval + SLACK
        clock.advance(4)
        await eventually(lambda: _ended_once(slack, 2), within=30)
    finally:
        await first.stop()
        await second.stop()
    _assert_nothing_doubled(slack)


@pytest.mark.parametrize("interval", INTERVALS)
async def test_a_killed_replicas_messages_are_sent_by_the_other_within_three_intervals(
    tmp_path: Path, served_fakes: Any, postgres: str, interval: float
) -> None:
    """kill -9 on the replica sending a reply that Slack took and has not answered: the other
    takes the message once its claim (two intervals, no longer renewed by the dead heartbeat)
    has run out, at its next tick; finds it in the thread instead of posting it again; and
    carries the thread on. Within three intervals of the kill."""
    clock, slack, _, _, servers = served_fakes
    common = {
        "apps": write_apps(tmp_path, servers),
        "slack_url": servers["slack"].url,
        "database_url": postgres,
        "DEPLOYBOT_POLL_INTERVAL": str(interval),
    }
    first = await start_bot(tmp_path, name="first", **common)
    second = await start_bot(tmp_path, name="second", **common)
    try:
        slack.hold("chat.postMessage", in_thread=True)  # the first reply: posted, not answered
        async with httpx.AsyncClient(timeout=10) as http:
            driver = SlackDriver(first.url, SIGNING_SECRET, slack, http)
            assert (await driver.command("web", channel=CHANNEL)).status_code == 200
        await eventually(lambda: slack.held)
        reply = slack.held[0].args["text"]
        row_id, owner = await eventually(lambda: sending_post(postgres))
        holder, other = (first, second) if f":{first.process.pid}:" in owner else (second, first)
        await holder.kill()
        killed = time.monotonic()
        await eventually(lambda: sent_by(postgres, row_id, other), within=60, every=0.02)
        took = time.monotonic() - killed
        log.warning(
            "kill -9 message handover at %ss: %.2fs = %.2f intervals",
            interval,
            took,
            took / interval,
        )
        assert took <= 3 * interval + SLACK
        assert slack.calls_to("conversations.replies")  # looked for before posting again
        clock.advance(4)
        await eventually(lambda: _ended_once(slack, 1), within=30)
        (thread,) = _replies(slack).values()
        assert sum(reply in text for text in thread) == 1  # posted once, found, not again
    finally:
        slack.release()
        await first.stop()
        await second.stop()
    _assert_nothing_doubled(slack)
