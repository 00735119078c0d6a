"""Small things that left a person without a right answer: a confirm dialog's text type, a
rollback form sent after its response_url expired, and `/deploy` typed in a DM."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.models import Deployment, Status
from bot.render import blocks, history_blocks, home_view
from tests.conftest import World, eventually

CHANNEL = "C0DEPLOYS"


def test_a_confirm_dialogs_text_is_plain_text() -> None:
    """Slack documents a confirmation dialog's `text` as a plain_text object."""
    now = datetime(2026, 1, 1, tzinfo=UTC)
    app = home_view.AppHome(
        "web", "nometria", live=Deployment(id="d1", status=Status.LIVE), deploy_where=CHANNEL
    )
    shown = home_view.view([app], now=now).to_dict()
    [deploy] = [
        e
        for b in shown["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == home_view.HOME_DEPLOY
    ]
    assert deploy["confirm"]["text"]["type"] == "plain_text"
    assert "<#" not in deploy["confirm"]["text"]["text"]  # a plain_text link would show raw


async def test_a_rollback_form_sent_after_its_response_url_expired_is_answered(
    world: World,
) -> None:
    """Slack's response_url works for 30 minutes: past it, the answer comes as an ephemeral."""
    world.nometria.seed_history("proj_abc123", n=3)
    before = len(world.slack.ephemerals)
    await world.driver.command("rollback web", user="U0LEAD", channel=CHANNEL)
    [shown] = await eventually(lambda: world.slack.ephemerals[before:])
    opened = len(world.slack.views_opened)
    await world.driver.click(
        blocks.ROLLBACK, message_ts=shown.ts, user="U0LEAD", channel=CHANNEL, ephemeral=True
    )
    [view] = await eventually(lambda: world.slack.views_opened[opened:])
    world.slack.expire_response_urls()  # the person came back from lunch
    answered = len(world.slack.ephemerals)
    typed = {history_blocks.REASON_BLOCK: {history_blocks.REASON_INPUT: "checkout errors"}}
    sent = await world.driver.submit_view(view, typed, user="U0LEAD")
    assert sent.status_code == 200
    [said] = await eventually(lambda: world.slack.ephemerals[answered:])
    assert said.user == "U0LEAD"
    assert said.channel == CHANNEL
    assert "web" in said.all_text


@pytest.mark.parametrize(
    ("channel", "name"), [("D0DM", "directmessage"), ("G0GROUP", "mpdm-dev--lead-1")]
)
@pytest.mark.parametrize("text", ["web", "rollback web", "lock web because"])
async def test_deploy_in_a_dm_says_deploybot_works_in_channels(
    world: World, channel: str, name: str, text: str
) -> None:
    """Slack lets nobody but the two people post in their DM: "invite me" would be wrong."""
    world.slack.channel_names[channel] = name
    world.slack.unknown_channels.add(channel)  # the bot is in no DM between people
    said = await world.ask(text, user="U0DEV", channel=channel)
    assert "deploybot works in channels" in said
    assert "Invite me" not in said
    assert world.slack.root_messages(channel) == []
    assert world.nometria.requests_to("POST") == []


async def test_status_still_answers_in_a_dm(world: World) -> None:
    world.slack.channel_names["D0DM"] = "directmessage"
    said = await world.ask("status web", user="U0DEV", channel="D0DM")
    assert "works in channels" not in said
