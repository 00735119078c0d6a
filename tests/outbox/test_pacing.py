"""Posts to one channel are paced; edits go on their own budget, merged; no reply is dropped."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from tests.conftest import World, eventually
from tests.fakes.slack_limits import SlackLimits

CHANNEL = "C0DEPLOYS"
PACE = 0.2


@pytest.fixture
def settings_extra() -> dict[str, Any]:
    return {"deploybot_channel_pace": PACE, "deploybot_channel_burst": 1}


async def test_a_burst_is_paced_and_root_edits_merge(world: World) -> None:
    await world.driver.command("web", channel=CHANNEL)
    root = (await eventually(lambda: world.slack.root_messages(CHANNEL)))[0].ts
    await eventually(lambda: "Started" in world.last_reply(CHANNEL, root))
    outbox = world.runtime.outbox

    # Three status changes land at once: each queues a root edit and a thread reply.
    for _ in range(3):
        world.clock.advance(1)
        await world.runtime.jobs.poller.poll_once()
    await outbox.idle()

    replies = world.slack.texts_in_thread(CHANNEL, root)
    assert [r for r in replies if "is building" in r or "is deploying" in r or "is live" in r]
    assert sum("is live" in r for r in replies) == 1
    assert len(replies) == 4  # started, building, deploying, live: none dropped
    edits = [c for c in world.slack.calls_to("chat.update") if c.args["ts"] == root]
    assert len(edits) <= 4  # started + three changes, at most; fewer when edits wait and merge
    assert "live" in edits[-1].args["text"]

    posts = [
        c.at
        for c in world.slack.calls_to("chat.postMessage")
        if c.args.get("channel") == CHANNEL and c.args.get("thread_ts") == root
    ]
    gaps = [b - a for a, b in itertools.pairwise(posts)]
    assert min(gaps) >= PACE * 0.9  # one reply per PACE seconds (a burst of one here)


SLOW_PACE = 120.0  # one post every two minutes in a channel, after a burst of three


@pytest.mark.parametrize(
    "settings_extra", [{"deploybot_channel_pace": SLOW_PACE, "deploybot_channel_burst": 3}]
)
async def test_a_status_change_is_replied_in_the_thread_before_the_root_is_edited(
    world: World,
) -> None:
    """The reply people read goes first; the root's edit follows it at once: edits are on the
    workspace's budget, not the channel's pace. The channel's burst is spent by the root and the
    two replies ("Started", "is building"): an edit that waited for the channel would wait two
    minutes, so the test's own bound (`eventually`, 30 s) tells the two apart, timing nothing."""
    await world.driver.command("web", channel=CHANNEL)
    root = (await eventually(lambda: world.slack.root_messages(CHANNEL)))[0].ts
    await eventually(lambda: "Started" in world.last_reply(CHANNEL, root))
    await world.runtime.outbox.idle()
    seen = len(world.slack.calls)

    world.clock.advance(1)  # the build starts
    await world.runtime.jobs.poller.poll_once()

    def written() -> list[Any]:
        return [
            c
            for c in world.slack.calls[seen:]
            if c.method in {"chat.postMessage", "chat.update"} and c.args.get("channel") == CHANNEL
        ]

    writes = await eventually(lambda: len(written()) >= 2 and written())
    assert [c.method for c in writes] == ["chat.postMessage", "chat.update"]
    reply, edit = writes
    assert reply.args["thread_ts"] == root
    assert "is building" in reply.args["text"]
    assert edit.args["ts"] == root
    assert "building" in edit.args["text"]

    # The first words of the thread went the same way: "Started" before the root showed it.
    first = world.slack.calls[:seen]
    started = next(
        i
        for i, c in enumerate(first)
        if c.method == "chat.postMessage" and "Started" in str(c.args.get("text"))
    )
    edited = next(
        i for i, c in enumerate(first) if c.method == "chat.update" and c.args["ts"] == root
    )
    assert started < edited


@pytest.mark.parametrize(
    "settings_extra",
    [
        {
            "deploybot_channel_pace": PACE,
            "deploybot_channel_burst": 3,
            "deploybot_edits_per_minute": 6,
        }
    ],
)
@pytest.mark.slow
async def test_a_burst_of_changes_stays_within_slacks_limits(world: World) -> None:
    """The fake Slack enforces the limits its docs state (a short burst, then one post a pace
    per channel; a budget of edits for the workspace): the bot is never answered 429."""
    world.slack.limits = SlackLimits(
        post_every=PACE, post_burst=3, updates_per_minute=6, update_burst=6
    )
    for app in ("web", "docs"):
        await world.driver.command(app, channel=CHANNEL)
    await eventually(lambda: len(world.slack.root_messages(CHANNEL)) == 2)
    roots = world.slack.root_messages(CHANNEL)
    for ts in [root.ts for root in roots]:
        await eventually(lambda ts=ts: "Started" in world.last_reply(CHANNEL, ts))  # type: ignore[misc]
    for _ in range(3):  # three changes each at once: six replies, and edits of both roots
        world.clock.advance(1)
        await world.runtime.jobs.poller.poll_once()
    await world.runtime.outbox.idle()

    for root in roots:
        assert "is live" in world.last_reply(CHANNEL, root.ts)
        shown = world.slack.message(CHANNEL, root.ts)
        assert shown is not None
        assert "live" in shown.text
    assert world.slack.limits.refused == {}
