"""Slack answering 5xx for a while: every reply, edit and DM still arrives, each channel's in the
order it was said, retried with a back-off rather than given up within seconds."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from tests.conftest import World, eventually
from tests.fakes.slack import Message

CHANNEL = "C0DEPLOYS"
OUTAGE = timedelta(seconds=10)


def _roots(world: World, app: str) -> list[Message]:
    return [m for m in world.slack.root_messages(CHANNEL) if f"Deploy {app}" in m.all_text]


def _thread(world: World, app: str) -> list[str]:
    return [t for root in _roots(world, app) for t in world.slack.texts_in_thread(CHANNEL, root.ts)]


def _started(world: World) -> bool:
    return all(any("Started" in t for t in _thread(world, app)) for app in ("web", "vault"))


async def test_ten_seconds_of_slack_5xx_lose_nothing_and_keep_each_threads_order(
    world: World,
) -> None:
    """Two deployments announce building, deploying, live and failed (and a failure DM) while
    Slack answers 503 for ten seconds of the bot's time: once it answers, everything arrives,
    nothing twice, each thread in the order it was said, and the roots show the last status."""
    for text in ("web", "vault bad1234"):
        assert (await world.driver.command(text, channel=CHANNEL)).status_code == 200
    await eventually(lambda: _started(world))
    world.wall.stop()  # the bot's time moves only when the test moves it
    ends = world.wall() + OUTAGE
    world.slack.down_while(("chat.postMessage", "chat.update"), lambda: world.wall() < ends)
    calls_before = len(world.slack.calls_to("chat.postMessage"))

    for _ in range(3):  # building, deploying, live; building, failed: all said during the outage
        await world.tick()
    assert await world.runtime.store.in_flight() == []
    assert len(_thread(world, "web")) == 1  # nothing got through yet

    dm = world.slack.dm_channel("U0DEV")

    def delivered() -> bool:
        return (
            len(_thread(world, "web")) == 4
            and len(world.slack.messages.get(dm, [])) == 1
            and "live" in _roots(world, "web")[0].text
            and "failed" in _roots(world, "vault")[0].text
        )

    seconds = 0
    while not delivered() and seconds < 3 * OUTAGE.total_seconds():
        world.wall.offset += timedelta(seconds=1)  # the bot's time moves on, a poll a second
        seconds += 1
        await world.tick(0)
    await world.runtime.outbox.idle()

    web, vault = _thread(world, "web"), _thread(world, "vault")
    for said, text in zip(("Started", "building", "deploying", "is live"), web, strict=True):
        assert said in text  # in the order it was said
    assert "building" in vault[1]
    assert "failed" in vault[-1]
    [web_root], [vault_root] = _roots(world, "web"), _roots(world, "vault")
    assert "live" in web_root.text
    assert "failed" in vault_root.text
    for texts in (web, vault):
        assert [t for t, n in Counter(texts).items() if n > 1] == []
    assert len(world.slack.messages[dm]) == 1
    # Backed off: a handful of attempts over the outage, not one after the other.
    attempts = len(world.slack.calls_to("chat.postMessage")) - calls_before
    assert attempts < 40, attempts
    assert seconds < 2 * OUTAGE.total_seconds()  # and delivered soon after Slack came back
