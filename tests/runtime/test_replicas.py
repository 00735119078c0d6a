"""Two `deploybot serve` processes on one PostgreSQL: the polling is split, nothing is announced
twice, and when one dies the other takes over its deployments within a lease period."""

from __future__ import annotations

import itertools
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from tests.conftest import SIGNING_SECRET, eventually, write_apps
from tests.processes import start_bot
from tests.slack_client import SlackDriver

# Two real processes on PostgreSQL, one killed: CI runs this with `-m slow` (README, Tests).
pytestmark = pytest.mark.slow

CHANNEL = "C0DEPLOYS"
PACE = 0.5  # seconds between two posts to one channel, across replicas
# Posts are timed where Slack's fake receives them, in the test's own busy event loop: two may
# be read closer than they left. Replicas that did not share the pace would post at once.
JITTER = PACE / 2


async def _owners(url: str) -> Counter[str]:
    async with await psycopg.AsyncConnection.connect(url) as conn:
        rows = await conn.execute("SELECT owner FROM deployments")
        return Counter(str(owner).rsplit(":", 1)[0] for (owner,) in await rows.fetchall())


def _replies(slack: Any) -> dict[str, list[str]]:
    return {
        root.ts: slack.texts_in_thread(CHANNEL, root.ts) for root in slack.root_messages(CHANNEL)
    }


def _all_live(slack: Any, n: int) -> bool:
    threads = _replies(slack)
    return len(threads) == n and all(t and "is live" in t[-1] for t in threads.values())


def _gaps(slack: Any) -> list[float]:
    """Seconds between consecutive paced posts to the channel (thread replies; roots are posted
    at once, and edits go on the workspace's budget), from the moments Slack received them."""
    calls = sorted(
        (
            c
            for c in slack.calls_to("chat.postMessage")
            if c.args.get("channel") == CHANNEL and c.args.get("thread_ts")
        ),
        key=lambda c: c.at,
    )
    return [b.at - a.at for a, b in itertools.pairwise(calls)]


async def test_two_replicas_split_the_polling_and_survive_one_dying(
    tmp_path: Path, served_fakes: Any, postgres: str
) -> None:
    """One channel, two replicas writing to it, one killed mid-build: each thread ends once, in
    order, and the channel never gets more than its pace."""
    clock, slack, _, _, servers = served_fakes
    apps = write_apps(tmp_path, servers)
    common = {
        "apps": apps,
        "slack_url": servers["slack"].url,
        "database_url": postgres,
        # A deployment is held for two poll intervals: long enough that a live replica's next
        # tick renews it on a busy machine (at 0.2 s the other replica took all three).
        "DEPLOYBOT_POLL_INTERVAL": "1",
        "DEPLOYBOT_LEASE_SECONDS": "5",  # messages and channels, the same for the heartbeat
        "DEPLOYBOT_CHANNEL_PACE": str(PACE),
        "DEPLOYBOT_CHANNEL_BURST": "1",  # strictly one a pace, so a gap shows a broken lease
    }
    first = await start_bot(tmp_path, name="first", **common)
    second = await start_bot(tmp_path, name="second", **common)
    try:
        async with httpx.AsyncClient(timeout=10) as http:
            drivers = [SlackDriver(b.url, SIGNING_SECRET, slack, http) for b in (first, second)]
            # Each replica takes the slash commands a load balancer sends it.
            for i, text in enumerate(("web", "docs release/2.0", "vault")):
                assert (await drivers[i % 2].command(text, channel=CHANNEL)).status_code == 200
            await eventually(
                lambda: sum("Started" in t for ts in _replies(slack).values() for t in ts) == 3
            )
            assert len(await _owners(postgres)) == 2  # both replicas hold deployments

            await first.kill()
            clock.advance(4)  # every build finishes while one replica is dead
            await eventually(lambda: _all_live(slack, 3))
    finally:
        await first.stop()
        await second.stop()

    for texts in _replies(slack).values():
        doubled = [text for text, n in Counter(texts).items() if n > 1]
        assert doubled == [], f"announced twice: {doubled}"
        assert sum("is live" in text for text in texts) == 1
        started = next(i for i, text in enumerate(texts) if "Started" in text)
        assert started < len(texts) - 1  # in order: started first, live last
    gaps = _gaps(slack)
    assert len(gaps) >= 6
    assert min(gaps) >= PACE - JITTER, gaps
    owners = await _owners(postgres)
    assert len(owners) == 1  # the survivor took over the dead replica's deployments
