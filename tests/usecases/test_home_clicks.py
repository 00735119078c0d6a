"""Home tab buttons never fail silently: a Deploy or Roll back… into a channel where the bot or
the person is not a member is answered on the tab, with what to do. Over real HTTP: signed
clicks in, the fake Slack answering as Slack does (not_in_channel, channel_not_found for a
private channel the bot is not in, user_not_in_channel for chat.postEphemeral)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import World, eventually

CHANNEL = "C0DEPLOYS"


@pytest.fixture
def settings_extra() -> dict[str, Any]:
    return {"deploybot_home_refresh": 0.05}


async def _opened(world: World, user: str) -> None:
    before = world.slack.home_publishes.get(user, 0)
    assert (await world.driver.home_opened(user)).status_code == 200
    await eventually(lambda: world.slack.home_publishes.get(user, 0) > before)


async def _said(world: World, user: str, words: str) -> Any:
    return await eventually(
        lambda: words in world.slack.home_text(user) and world.slack.home_text(user)
    )


async def _live(world: World, app: str) -> None:
    before = len(world.slack.root_messages(CHANNEL))
    await world.driver.command(app, user="U0DEV", channel=CHANNEL)
    [root] = await eventually(lambda: world.slack.root_messages(CHANNEL)[before:])
    await eventually(lambda: "Started" in world.last_reply(CHANNEL, root.ts))
    for _ in range(4):
        await world.tick()


def _rollbacks(world: World) -> list[Any]:
    return [r for r in world.nometria.requests_to("POST") if r.path.endswith("/rollback")]


@pytest.mark.parametrize("private", [False, True], ids=["public", "private"])
async def test_deploy_into_a_channel_without_the_bot_says_invite_me_there(
    world: World, private: bool
) -> None:
    await _live(world, "docs")  # followed in #deploys from now on
    await _opened(world, "U0DEV")
    world.slack.not_in_channels.add(CHANNEL)  # the bot was removed from it
    if private:
        world.slack.private_channels.add(CHANNEL)
    deployed = len(world.stormkit.deployments)

    await world.driver.click_home("deploybot_home_deploy", "docs", user="U0DEV")

    said = await _said(world, "U0DEV", "`/invite @deploybot`")
    assert f"I can't post in <#{CHANNEL}>, where *docs* is followed" in said
    assert "then click *Deploy* again. Nothing was deployed." in said
    assert len(world.stormkit.deployments) == deployed


async def test_roll_back_into_a_channel_without_the_bot_says_invite_me_there(world: World) -> None:
    await _live(world, "web")
    await _live(world, "web")
    await _opened(world, "U0LEAD")
    world.slack.not_in_channels.add(CHANNEL)

    await world.driver.click_home("deploybot_home_rollback", "web", user="U0LEAD")

    said = await _said(world, "U0LEAD", "`/invite @deploybot`")
    assert "then click *Roll back…* again. Nothing was rolled back." in said
    assert _rollbacks(world) == []


async def test_roll_back_for_someone_not_in_the_channel_says_join_it(world: World) -> None:
    """The confirmation is a message only they see in the app's channel: Slack refuses it to
    someone outside the channel (user_not_in_channel), so the tab says to join it."""
    await _live(world, "web")
    await _live(world, "web")
    await _opened(world, "U0LEAD")
    world.slack.members[CHANNEL] = {"U0DEV", "UBOT"}

    await world.driver.click_home("deploybot_home_rollback", "web", user="U0LEAD")

    said = await _said(world, "U0LEAD", "You are not in")
    assert f"join <#{CHANNEL}> and click *Roll back…* again" in said
    assert "or type `/deploy rollback web` in a channel you are in" in said
    assert world.slack.ephemerals_for("U0LEAD") == []
    assert _rollbacks(world) == []


async def test_deploy_for_someone_not_in_the_channel_says_join_it_and_deploys_nothing(
    world: World,
) -> None:
    """A deploy from the tab is followed in the app's channel: before anything, a line only
    they see there, which Slack refuses to someone outside it; the tab says to join it."""
    await _live(world, "docs")
    await _opened(world, "U0OTHER")
    world.slack.members[CHANNEL] = {"U0DEV", "UBOT"}
    deployed, roots = len(world.stormkit.deployments), len(world.slack.root_messages(CHANNEL))

    await world.driver.click_home("deploybot_home_deploy", "docs", user="U0OTHER")

    said = await _said(world, "U0OTHER", "You are not in")
    assert f"where *docs* is followed: join <#{CHANNEL}> and click *Deploy* again" in said
    assert "or type `/deploy docs` in a channel you are in. Nothing was deployed." in said
    assert len(world.stormkit.deployments) == deployed
    assert len(world.slack.root_messages(CHANNEL)) == roots


async def test_a_deploy_from_the_tab_is_said_to_the_person_in_its_channel(world: World) -> None:
    await _live(world, "docs")
    await _opened(world, "U0DEV")

    await world.driver.click_home("deploybot_home_deploy", "docs", user="U0DEV")

    [line] = await eventually(lambda: world.slack.ephemerals_for("U0DEV", CHANNEL))
    assert "You asked to deploy *docs* from your Home tab: follow it here." in line.text
    await _said(world, "U0DEV", "Deploying *docs*")


async def test_when_the_tab_cannot_be_drawn_the_answer_comes_as_a_direct_message(
    world: World,
) -> None:
    await _live(world, "docs")
    await _opened(world, "U0DEV")
    world.slack.not_in_channels.add(CHANNEL)
    world.slack.fail("views.publish", "invalid_arguments", times=5)

    await world.driver.click_home("deploybot_home_deploy", "docs", user="U0DEV")

    dm = world.slack.dm_channel("U0DEV")
    [message] = await eventually(lambda: world.slack.root_messages(dm))
    assert f"`/invite @deploybot` in <#{CHANNEL}>" in message.text
