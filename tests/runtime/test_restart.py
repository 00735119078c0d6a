"""SIGKILL mid-announcement: the next process finishes every thread, losing and doubling nothing."""

from __future__ import annotations

import sqlite3
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import SIGNING_SECRET, eventually, write_apps
from tests.processes import start_bot
from tests.slack_client import SlackDriver

# Real processes killed and started again: CI runs this with `-m slow` (README, Tests).
pytestmark = pytest.mark.slow

CHANNEL = "C0DEPLOYS"


def _replies(slack: Any) -> dict[str, list[str]]:
    return {
        root.ts: slack.texts_in_thread(CHANNEL, root.ts) for root in slack.root_messages(CHANNEL)
    }


def _undelivered(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        [(count,)] = conn.execute(
            "SELECT count(*) FROM outbox WHERE state IN ('pending', 'sending')"
        ).fetchall()
    return int(count)


async def test_sigkill_while_announcing_loses_and_doubles_nothing(
    tmp_path: Path, served_fakes: Any
) -> None:
    clock, slack, _, _, servers = served_fakes
    apps = write_apps(tmp_path, servers)
    db = tmp_path / "deploybot.db"
    common = {
        "apps": apps,
        "slack_url": servers["slack"].url,
        "database_url": f"sqlite:///{db}",
        "DEPLOYBOT_LEASE_SECONDS": "2",
    }
    first = await start_bot(tmp_path, name="first", **common)
    try:
        async with httpx.AsyncClient(timeout=10) as http:
            driver = SlackDriver(first.url, SIGNING_SECRET, slack, http)
            for text in ("web", "docs release/2.0", "vault a1b2c3d"):
                assert (await driver.command(text, channel=CHANNEL)).status_code == 200
            await eventually(
                lambda: sum("Started" in t for ts in _replies(slack).values() for t in ts) == 3
            )
            # The next post reaches Slack, but its answer never comes back before the kill.
            slack.delay("chat.postMessage", seconds=60, times=1)
            posted = len(slack.calls_to("chat.postMessage"))
            clock.advance(1)
            await eventually(lambda: len(slack.calls_to("chat.postMessage")) > posted)
        await first.kill()
    finally:
        await first.stop()

    clock.advance(3)  # meanwhile every build finishes
    second = await start_bot(tmp_path, name="second", **common)
    try:
        await eventually(
            lambda: (
                all(texts and ("is live" in texts[-1]) for texts in _replies(slack).values())
                and _undelivered(db) == 0
            ),
            within=30,
        )
    finally:
        await second.stop()

    threads = _replies(slack)
    assert len(threads) == 3
    for texts in threads.values():
        doubled = [text for text, n in Counter(texts).items() if n > 1]
        assert doubled == [], f"announced twice: {doubled}"
        assert sum("is live" in text for text in texts) == 1
