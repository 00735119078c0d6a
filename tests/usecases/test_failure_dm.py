"""A failed deployment's requester gets a direct message with the app, the failing line and a
link to the thread; `DEPLOYBOT_FAILURE_DMS=false` turns it off."""

from __future__ import annotations

from typing import Any

import pytest

from bot.config.settings import Settings
from tests.conftest import World, eventually

CHANNEL = "C0DEPLOYS"


async def _ended(world: World, text: str, *, user: str = "U0DEV") -> str:
    """Deploy through a slash command and poll until the thread ends; the root's ts."""
    response = await world.driver.command(text, user=user, channel=CHANNEL)
    assert response.status_code == 200
    [root] = await eventually(lambda: world.slack.root_messages(CHANNEL))
    await eventually(lambda: "Started" in world.last_reply(CHANNEL, root.ts))
    for _ in range(4):
        await world.tick()
    return str(root.ts)


async def test_the_requester_of_a_failed_deploy_gets_a_dm_with_the_thread(world: World) -> None:
    ts = await _ended(world, "web bad1234", user="U0DEV")
    assert "web failed" in world.last_reply(CHANNEL, ts)

    dm = world.slack.dm_channel("U0DEV")
    [message] = await eventually(lambda: world.slack.messages.get(dm))
    text = message.all_text
    assert "Your deployment of *web*" in text
    [link] = world.slack.calls_to("chat.getPermalink")
    assert link.args["message_ts"] == ts
    assert f"archives/{CHANNEL}/p{ts.replace('.', '')}|its thread>" in text
    assert f"<#{CHANNEL}>" in text
    assert "Cannot find module" in text  # the first failing line
    assert "sk_live_abc123" not in text  # secrets masked, as in the thread
    assert message.thread_ts is None

    await world.tick()
    await world.runtime.outbox.idle()
    assert len(world.slack.messages[dm]) == 1  # said once


async def test_a_deploy_that_goes_live_sends_no_dm(world: World) -> None:
    ts = await _ended(world, "web")
    assert "is live" in world.last_reply(CHANNEL, ts)
    assert world.slack.dm_channel("U0DEV") not in world.slack.messages
    assert world.slack.calls_to("chat.getPermalink") == []


async def test_without_a_permalink_the_dm_still_names_the_channel(world: World) -> None:
    world.slack.fail("chat.getPermalink", "ratelimited", times=5)
    await _ended(world, "web bad1234")
    [message] = await eventually(lambda: world.slack.messages.get(world.slack.dm_channel("U0DEV")))
    assert f"its thread in <#{CHANNEL}>" in message.all_text


class TestTurnedOff:
    @pytest.fixture
    def settings_extra(self) -> dict[str, Any]:
        return {"deploybot_failure_dms": False}

    async def test_no_dm_when_turned_off(self, world: World) -> None:
        ts = await _ended(world, "web bad1234")
        assert "web failed" in world.last_reply(CHANNEL, ts)
        await world.runtime.outbox.idle()
        assert world.slack.dm_channel("U0DEV") not in world.slack.messages


def test_the_setting_reads_false_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEPLOYBOT_FAILURE_DMS", "false")
    assert Settings().deploybot_failure_dms is False
