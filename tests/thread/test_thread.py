"""The thread toolkit on SQLite, without HTTP: a status change and its messages go together."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot import migrations
from bot.config.apps import AppConfig
from bot.models import Approval, Deployment, Kind, Status, Tracked, utcnow
from bot.outbox import Outbox
from bot.redact import Redactor
from bot.store import Store
from bot.store.db import Database
from bot.thread import Thread
from tests.fakes.notifier import FakeNotifier

BLOG = AppConfig(name="blog", provider="stormkit", approval=True, approvers=("U0LEAD",))


@pytest.fixture
async def parts(tmp_path: Path) -> AsyncIterator[tuple[Thread, Store, Outbox, FakeNotifier]]:
    db = Database(f"sqlite:///{tmp_path / 'thread.db'}")
    await migrations.upgrade(db)
    store = Store(db, clock=utcnow, owner="me")
    slack = FakeNotifier()
    outbox = Outbox(db, slack, clock=utcnow, owner="me")
    thread = Thread({"blog": BLOG}, store, outbox, {}, Redactor([]))
    yield thread, store, outbox, slack
    await db.close()


async def _pending(store: Store) -> Tracked:
    return await store.track(
        kind=Kind.DEPLOY,
        app="blog",
        provider="stormkit",
        deployment_id="42",
        channel="C0DEPLOYS",
        root_ts="1.1",
        requester="U0DEV",
        ref="main",
        status=Status.BUILDING,
        approval=Approval.PENDING,
    )


async def test_a_status_change_is_announced_once_by_whoever_settles_it_first(
    parts: tuple[Thread, Store, Outbox, FakeNotifier],
) -> None:
    """Two readers of the same stale row settle `ready`: one prompt, one root edit."""
    thread, store, outbox, slack = parts
    row = await _pending(store)
    ready = Deployment(id="42", status=Status.READY, url="https://preview.example")
    await thread.settle(row, ready)
    await thread.settle(row, ready)  # the second reader still holds the old row
    await outbox.idle()
    posts = [text for way, _, text in slack.calls if way == "post"]
    assert len(posts) == 1
    assert "<@U0LEAD>: publish it?" in posts[0]
    assert [way for way, _, _ in slack.calls].count("update") == 1
    now = await store.get(row.id)
    assert now is not None
    assert now.status is Status.READY


async def test_going_live_while_pending_says_so_loudly_and_records_the_bypass(
    parts: tuple[Thread, Store, Outbox, FakeNotifier],
) -> None:
    """autoPublish: live without a decision is broadcast, and the approval is marked bypassed."""
    thread, store, outbox, slack = parts
    row = await _pending(store)
    await thread.settle(row, Deployment(id="42", status=Status.LIVE))
    await outbox.idle()
    texts = [text for _, _, text in slack.calls]
    assert any("WITHOUT approval" in text for text in texts)
    now = await store.get(row.id)
    assert now is not None
    assert now.approval is Approval.BYPASSED
