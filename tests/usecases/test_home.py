"""The Home tab through `app_home_opened` events and clicks on it, over real HTTP."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import World, eventually

CHANNEL = "C0DEPLOYS"


@pytest.fixture
def settings_extra() -> dict[str, Any]:
    return {"deploybot_home_refresh": 0.05}


@pytest.fixture
def apps_extra() -> str:
    """Apps whose `channels` say where a deploy or rollback from the Home tab is followed."""
    return """
[apps.site]
provider = "stormkit"
env_id = "305"
default_branch = "main"
approvers = ["U0LEAD"]
channels = ["C0DEPLOYS"]

[apps.api]
provider = "nometria"
project_id = "proj_api"
approvers = ["U0LEAD"]
channels = ["C0DEPLOYS"]
"""


async def _opened(world: World, user: str) -> str:
    before = world.slack.home_publishes.get(user, 0)
    response = await world.driver.home_opened(user)
    assert response.status_code == 200
    await eventually(lambda: world.slack.home_publishes.get(user, 0) > before)
    return world.slack.home_text(user)


async def _live(world: World, text: str, *, user: str = "U0DEV") -> str:
    before = len(world.slack.root_messages(CHANNEL))
    await world.driver.command(text, user=user, channel=CHANNEL)
    [root] = await eventually(lambda: world.slack.root_messages(CHANNEL)[before:])
    await eventually(lambda: "Started" in world.last_reply(CHANNEL, root.ts))
    for _ in range(4):
        await world.tick()
    return str(root.ts)


def _rollbacks(world: World) -> list[Any]:
    return [r for r in world.nometria.requests_to("POST") if r.path.endswith("/rollback")]


async def test_home_shows_each_app_the_person_can_see(world: World) -> None:
    """What is live with who and where, the last deployments and the figures; vault is for
    its deployers only."""
    await _live(world, "web")
    [row] = await world.runtime.store.of_app("web")

    shown = await _opened(world, "U0OTHER")

    assert f"Live: `{row.deployment_id}`" in shown
    assert "by <@U0DEV>" in shown
    assert "<https://proj_abc123.nometria.app>" in shown
    assert "*web*: the last 1 deployments" in shown
    assert "Deployment frequency" in shown
    assert "*vault*" not in shown
    assert "*vault*" in await _opened(world, "U0DEV")


async def test_what_waits_for_your_approval_links_its_thread(world: World) -> None:
    await world.driver.command("shop", user="U0DEV", channel=CHANNEL)
    [root] = await eventually(lambda: world.slack.root_messages(CHANNEL))
    await eventually(lambda: world.slack.thread(CHANNEL, root.ts))

    lead = await _opened(world, "U0LEAD")
    dev = await _opened(world, "U0DEV")

    link = f"archives/{CHANNEL}/p{root.ts.replace('.', '')}|thread>"
    [waits] = [line for line in lead.splitlines() if ":eyes: Waits for your approval:" in line]
    assert "approval" not in waits.split("Waits for your approval:")[1]  # said once
    assert ", by <@U0DEV>, just now · <" in waits
    assert waits.endswith(link)
    assert "), by <@U0DEV>, just now" in dev  # in flight: its state in brackets
    assert link in lead
    assert ":eyes:" not in dev  # the requester may not approve their own
    assert link in dev  # but sees it in flight


async def test_deploy_button_deploys_the_default_branch_in_the_apps_channel(world: World) -> None:
    await _live(world, "site")
    await _opened(world, "U0DEV")

    response = await world.driver.click_home("deploybot_home_deploy", "site", user="U0DEV")
    assert response.status_code == 200

    roots = await eventually(lambda: world.slack.root_messages(CHANNEL)[1:])
    assert "Ref: `main`" in roots[0].all_text or "main" in roots[0].all_text
    said = await eventually(
        lambda: (
            "Deploying *site*" in world.slack.home_text("U0DEV") and world.slack.home_text("U0DEV")
        )
    )
    assert f"follow it in <#{CHANNEL}>" in said
    assert len(world.stormkit.deployments) == 2


async def test_roll_back_from_home_goes_back_and_unlock_unlocks(world: World) -> None:
    """Roll back… hands the usual confirmation to the approver in the app's channel; its
    button and the form asking why carry it out; Unlock on the tab unlocks."""
    first = await _live(world, "api")
    await _live(world, "api")
    await _opened(world, "U0LEAD")
    before = len(world.slack.ephemerals)

    await world.driver.click_home("deploybot_home_rollback", "api", user="U0LEAD")

    [shown] = await eventually(lambda: world.slack.ephemerals[before:])
    assert (shown.channel, shown.user) == (CHANNEL, "U0LEAD")
    assert "Roll back api?" in shown.all_text
    said = await eventually(
        lambda: (
            "waits for your confirmation" in world.slack.home_text("U0LEAD")
            and world.slack.home_text("U0LEAD")
        ),
    )
    assert f"in <#{CHANNEL}>" in said
    assert _rollbacks(world) == []  # nothing changes before the confirmation and its reason
    await world.confirm_rollback(shown.ts, user="U0LEAD", channel=CHANNEL, reason="errors")
    [call] = await eventually(lambda: _rollbacks(world))
    [row] = [r for r in await world.runtime.store.of_app("api") if r.root_ts == first]
    assert call.path == f"/v1/deployments/{row.deployment_id}/rollback"
    await eventually(lambda: ":lock: Locked by <@U0LEAD>" in world.slack.home_text("U0LEAD"))

    await world.driver.click_home("deploybot_home_unlock", "api", user="U0LEAD")
    await eventually(lambda: "You unlocked *api*." in world.slack.home_text("U0LEAD"))
    assert await world.runtime.store.locks.get("api") is None
    assert any("is unlocked" in m.text for m in world.slack.root_messages(CHANNEL))


async def test_a_refused_click_says_why_on_the_tab(world: World) -> None:
    """The rollback button is for approvers; a click from anyone else changes nothing."""
    await _live(world, "api")
    await _live(world, "api")
    await _opened(world, "U0LEAD")
    world.slack.home_views["U0DEV"] = world.slack.home_views["U0LEAD"]  # a forged click

    await world.driver.click_home("deploybot_home_rollback", "api", user="U0DEV")

    said = await eventually(
        lambda: ":no_entry:" in world.slack.home_text("U0DEV") and world.slack.home_text("U0DEV")
    )
    assert "Only <@U0LEAD> or anyone in an incident channel" in said
    assert _rollbacks(world) == []


async def test_the_tab_refreshes_when_a_deployment_it_shows_changes(world: World) -> None:
    await _opened(world, "U0OTHER")
    before = world.slack.home_publishes["U0OTHER"]

    await _live(world, "web")

    [row] = await world.runtime.store.of_app("web")
    await eventually(lambda: f"Live: `{row.deployment_id}`" in world.slack.home_text("U0OTHER"))
    assert world.slack.home_publishes["U0OTHER"] > before


async def test_the_messages_tab_draws_nothing(world: World) -> None:
    response = await world.driver.home_opened("U0DEV", tab="messages")
    assert response.status_code == 200
    await world.runtime.door.drain()
    assert "U0DEV" not in world.slack.home_views


async def test_roll_back_from_home_without_a_channel_names_the_rollback_command(
    world: World,
) -> None:
    """An app without `channels` has no channel to follow a rollback in: the tab says to type
    the rollback there, not a deploy."""
    world.nometria.seed_history("proj_abc123", n=2)
    await _opened(world, "U0LEAD")

    await world.driver.click_home("deploybot_home_rollback", "web", user="U0LEAD")

    said = await eventually(
        lambda: (
            "has no `channels` in the apps file" in world.slack.home_text("U0LEAD")
            and world.slack.home_text("U0LEAD")
        )
    )
    assert "type `/deploy rollback web` in the channel where its thread should be" in said
    assert _rollbacks(world) == []
