"""Provider and Slack faults over real HTTP: retried, said once, and never done twice."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import pytest
from sqlalchemy import func, select

from bot.outbox.table import ChannelLease, OutboxRow
from bot.store.tables import Claim
from tests.conftest import World, eventually

CHANNEL = "C0DEPLOYS"


@pytest.fixture
def settings_extra() -> dict[str, Any]:
    return {"deploybot_outage_notice_after": 0}


async def _started(world: World, text: str) -> str:
    before = len(world.slack.root_messages(CHANNEL))
    await world.driver.command(text, channel=CHANNEL)
    root = (await eventually(lambda: world.slack.root_messages(CHANNEL)[before:]))[0].ts
    await eventually(lambda: "Started" in world.last_reply(CHANNEL, root))
    return str(root)


def _count(world: World, root: str, words: str) -> int:
    return sum(words in text for text in world.slack.texts_in_thread(CHANNEL, root))


async def test_a_long_outage_is_said_once_and_its_end_once(world: World) -> None:
    """Polls that keep failing (5xx, timeouts) give one notice; recovery gives one more."""
    root = await _started(world, "web")
    world.nometria.inject(503, {"error": "upstream"}, times=30, path_contains="/v1/deployments/")
    for _ in range(4):
        await world.tick()
    assert _count(world, root, "has not answered") == 1
    assert "HTTP 503" in world.last_reply(CHANNEL, root)

    world.nometria.clear_faults()
    await world.tick()
    await world.tick()
    assert _count(world, root, "following resumes") == 1
    assert _count(world, root, "has not answered") == 1
    await world.tick()
    assert "web is live" in world.last_reply(CHANNEL, root)


async def test_malformed_json_and_429_are_retried_and_polling_goes_on(world: World) -> None:
    root = await _started(world, "web")
    world.nometria.malformed_next(times=1, path_contains="/v1/deployments/")
    world.nometria.inject(429, {"error": "slow down"}, headers={"Retry-After": "0"}, times=1)
    for _ in range(3):
        await world.tick()
    assert "web is live" in world.last_reply(CHANNEL, root)
    assert _count(world, root, "has not answered") == 0


async def test_a_stuck_deployment_is_reported_once_and_no_longer_polled(world: World) -> None:
    root = await _started(world, "web")
    world.wall.offset = timedelta(hours=2)
    await world.tick(0)
    await world.tick(0)
    assert _count(world, root, "I stop following it") == 1
    polls = len(world.nometria.requests)
    await world.tick(5)
    assert len(world.nometria.requests) == polls
    assert await world.runtime.store.in_flight() == []


async def test_a_failed_trigger_says_why_in_plain_words(world: World) -> None:
    world.nometria.inject(
        400, {"error": {"code": "invalid_request", "message": "commit not found"}}, times=1
    )
    await world.driver.command("web deadbeef", channel=CHANNEL)
    root = (await eventually(lambda: world.slack.root_messages(CHANNEL)))[0].ts
    await eventually(lambda: "Could not start" in world.last_reply(CHANNEL, root))
    assert "commit not found" in world.last_reply(CHANNEL, root)


async def test_slack_429_and_5xx_are_retried(world: World) -> None:
    """A rate-limited post waits for Retry-After; a 503 on an edit is sent again after its
    back-off."""
    world.slack.rate_limit("chat.postMessage", retry_after=1, times=1)
    world.slack.server_error("chat.update", status=503, times=1)
    root = await _started(world, "web")
    for _ in range(3):
        await world.tick()
    await eventually(lambda: "web is live" in world.last_reply(CHANNEL, root))
    await eventually(lambda: "live" in world.slack.message(CHANNEL, root).text)  # type: ignore[union-attr]
    statuses = [c.status for c in world.slack.calls_to("chat.postMessage")]
    assert statuses[0] == 429


async def test_not_in_channel_is_caught_before_anything_is_triggered(world: World) -> None:
    world.slack.not_in_channels.add(CHANNEL)
    told = await world.ask("web", channel=CHANNEL)
    assert "/invite @deploybot" in told
    assert world.nometria.requests == []


async def test_a_retried_slash_command_deploys_once(world: World) -> None:
    """Slack's X-Slack-Retry-Num copy of the same request (same trigger_id) is ignored."""
    body = urlencode(
        {
            "command": "/deploy",
            "text": "web",
            "user_id": "U0DEV",
            "channel_id": CHANNEL,
            "team_id": "T0TEAM",
            "trigger_id": "1234.5678.abcdef",
            "response_url": world.slack.new_response_url(CHANNEL, "U0DEV"),
        }
    ).encode()
    first = await world.driver.post(body)
    second = await world.driver.post(body, retry_num=1)
    third = await world.driver.post(body, retry_num=2)
    assert {first.status_code, second.status_code, third.status_code} == {200}
    await eventually(lambda: world.nometria.requests_to("POST", "/v1/deployments"))
    await world.runtime.door.drain()
    assert len(world.nometria.requests_to("POST", "/v1/deployments")) == 1
    assert len(world.slack.root_messages(CHANNEL)) == 1


async def test_old_repeat_guards_and_delivered_messages_are_forgotten(world: World) -> None:
    """The store does not grow for ever: week-old claims and sent messages are pruned."""
    old = datetime.now(UTC) - timedelta(days=8)
    async with world.runtime.db.session.begin() as session:
        session.add_all(
            [
                Claim(key="request:old", created_at=old),
                Claim(key="request:new", created_at=datetime.now(UTC)),
                OutboxRow(channel=CHANNEL, kind="post", text="old", state="sent", created_at=old),
                OutboxRow(
                    channel=CHANNEL, kind="post", text="due", state="pending", created_at=old
                ),
            ]
        )
    await world.tick(0)
    async with world.runtime.db.session() as session:
        claims = set(await session.scalars(select(Claim.key)))
        notices = await session.scalar(select(func.count()).select_from(OutboxRow))
    assert claims == {"request:new"}
    assert notices == 1  # the undelivered one stays, whatever its age


async def test_a_reply_whose_connection_dropped_is_posted_once(world: World) -> None:
    """Slack took the post and the connection dropped: no blind re-send, and the outbox's
    next attempt finds it by its metadata instead of posting it again."""
    world.slack.drop("chat.postMessage", in_thread=True)
    root = await _started(world, "web")
    for _ in range(3):
        await world.tick()
    await eventually(lambda: _count(world, root, "web is live"))  # after the reply's back-off

    [dropped] = world.slack.dropped
    assert _count(world, root, dropped.args["text"]) == 1
    assert _count(world, root, "Started") == 1
    assert _count(world, root, "web is live") == 1
    assert world.slack.calls_to("conversations.replies")
    posts = [c for c in world.slack.calls_to("chat.postMessage") if c.args.get("thread_ts")]
    assert len(posts) == len(world.slack.thread(CHANNEL, root))  # one call per reply


async def test_a_reply_is_delivered_when_slack_can_never_say_if_it_was(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    """The "already posted?" look-up is refused for good (a token without the history scopes):
    the reply is posted anyway, and the log says why."""
    world.slack.drop("chat.postMessage", in_thread=True)
    world.slack.fail("conversations.replies", "missing_scope", times=10)
    root = await _started(world, "web")
    for _ in range(3):
        await world.tick()
    await eventually(lambda: _count(world, root, "web is live"))

    [dropped] = world.slack.dropped
    assert _count(world, root, dropped.args["text"]) == 2  # a rare duplicate, nothing lost
    assert _count(world, root, "web is live") == 1
    said = [r.getMessage() for r in caplog.records if "cannot tell whether notice" in r.message]
    assert said
    assert "missing_scope" in said[0]
    assert "posting it" in said[0]
    async with world.runtime.db.session() as session:
        failed = await session.scalar(
            select(func.count()).select_from(OutboxRow).where(OutboxRow.state == "failed")
        )
    assert failed == 0


async def _channel_holder(world: World) -> str | None:
    async with world.runtime.db.session() as session:
        return await session.scalar(
            select(ChannelLease.owner).where(ChannelLease.channel == CHANNEL)
        )


async def test_a_rate_limited_look_up_waits_its_retry_after_and_never_posts_blind(
    world: World,
) -> None:
    """The look-up before a re-post is rate limited (Slack allows apps outside its Marketplace
    one conversations.replies a minute): the reply waits Retry-After without holding its
    channel, is looked up again, found, and not posted twice; the replies after it follow."""
    world.slack.drop("chat.postMessage", in_thread=True)
    world.slack.rate_limit("conversations.replies", retry_after=5, times=4)
    root = await _started(world, "web")
    world.wall.stop()  # the bot's time moves only when the test moves it
    for _ in range(3):
        await world.tick()
    world.wall.offset += timedelta(seconds=1)  # the dropped reply's back-off is over
    await world.tick(0)
    assert await _channel_holder(world) is None  # waiting, and holding nothing meanwhile
    assert len(world.slack.calls_to("conversations.replies")) == 1
    assert _count(world, root, "is building") == 0  # nothing overtakes the reply waiting

    waited = 0
    while not _count(world, root, "web is live") and waited < 60:
        world.wall.offset += timedelta(seconds=1)
        waited += 1
        await world.tick(0)
    await world.runtime.outbox.idle()

    [dropped] = world.slack.dropped
    assert _count(world, root, dropped.args["text"]) == 1  # found, not posted blind
    assert _count(world, root, "web is live") == 1
    asked = world.slack.calls_to("conversations.replies")
    assert [call.status for call in asked] == [429, 429, 429, 429, 200]
    assert waited >= 4 * 5  # Retry-After honoured every time
