"""Rollback: from -> to with a confirm, the provider's own mechanism, a thread, and a lock."""

from __future__ import annotations

import asyncio
import json
import re

import pytest

from bot.render import blocks, history_blocks
from tests.conftest import STORMKIT_FLAVOURS, World, eventually

_ROLLBACK = re.compile(r"\bRollback\b")  # a rollback's root, not "Rollbacks still work"
CHANNEL = "C0DEPLOYS"


INCIDENT = "C0INCIDENT"


@pytest.fixture(params=STORMKIT_FLAVOURS)
def stormkit_flavour(request: pytest.FixtureRequest) -> str:
    """Every test here runs against the seed's Stormkit and against its server of today."""
    return str(request.param)


async def _confirmation(world: World, text: str, *, user: str, channel: str) -> tuple[str, str]:
    """Ask for a rollback; return the ephemeral's ts and text."""
    before = len(world.slack.ephemerals)
    await world.driver.command(text, user=user, channel=channel)
    [shown] = await eventually(lambda: world.slack.ephemerals[before:])
    return shown.ts, shown.all_text


async def _confirm(world: World, ts: str, *, user: str, channel: str) -> None:
    await world.confirm_rollback(ts, user=user, channel=channel)


def _rollback_root(world: World, channel: str) -> str:
    roots = [m for m in world.slack.root_messages(channel) if _ROLLBACK.search(m.text)]
    return roots[-1].ts if roots else ""


async def test_nometria_rollback_goes_back_to_the_previous_live_and_locks(world: World) -> None:
    """Default target: the one live before the current; /rollback is called on it."""
    live, previous, _ = world.nometria.seed_history("proj_abc123", n=3)
    ts, text = await _confirmation(world, "rollback web", user="U0LEAD", channel=CHANNEL)
    assert f"*From* `{live}`" in text
    assert f"*To* `{previous}`" in text
    assert world.nometria.requests_to("POST") == []  # nothing changes before the confirm

    await _confirm(world, ts, user="U0LEAD", channel=CHANNEL)
    root = await eventually(lambda: _rollback_root(world, CHANNEL))
    [call] = await eventually(lambda: world.nometria.requests_to("POST", "/v1/deployments/"))
    await eventually(lambda: "Started" in "\n".join(world.slack.texts_in_thread(CHANNEL, root)))
    assert call.path == f"/v1/deployments/{previous}/rollback"
    for _ in range(3):
        await world.tick()
    assert "web is live" in world.last_reply(CHANNEL, root)
    assert world.nometria.live_id("proj_abc123") not in {live, previous}

    refused = await world.ask("web", user="U0DEV")
    assert "locked by <@U0LEAD>: a rollback in <#C0DEPLOYS> (" in refused
    assert len(world.nometria.requests_to("POST", "/v1/deployments")) == 1
    unlocked = await world.aloud("unlock web", user="U0LEAD")
    assert "unlocked" in unlocked


async def test_stormkit_rollback_publishes_the_target(world: World) -> None:
    """Stormkit rolls back by publishing the earlier deployment; the thread says live once,
    at once on the seed's server, after the warm-up on today's."""
    live, previous, _ = world.stormkit.seed_history(n=3)
    ts, text = await _confirmation(world, "rollback docs", user="U0LEAD", channel=CHANNEL)
    assert f"*From* `{live}`" in text
    await _confirm(world, ts, user="U0LEAD", channel=CHANNEL)
    root = await eventually(lambda: _rollback_root(world, CHANNEL))
    await world.live_after_publish(CHANNEL, root)
    assert world.stormkit.published_id() == previous
    await world.runtime.outbox.idle()  # the root's edit follows the reply
    assert "live" in world.slack.message(CHANNEL, root).text  # type: ignore[union-attr]
    assert await world.runtime.store.in_flight() == []
    publishes = [r.path for r in world.stormkit.requests if r.path.endswith("/publish")]
    assert publishes == [f"/v1/deployments/{previous}/publish"]

    said = world.slack.texts_in_thread(CHANNEL, root)
    assert f"<@U0LEAD> rolls back *docs* from `{live}`" in said[0]  # from -> to, first
    # Stormkit publishes the target at once: no "queued" line to arrive after the root's live
    assert not any("queued" in text for text in said), said
    assert not any("Built in" in text for text in said), said  # a rollback builds nothing
    message = world.slack.message(CHANNEL, root)
    assert message is not None
    assert "Deploys are locked until `/deploy unlock docs`" in message.all_text  # still there


async def test_a_named_target_is_used(world: World) -> None:
    _, _, oldest = world.stormkit.seed_history(n=3)
    ts, text = await _confirmation(world, f"rollback docs {oldest}", user="U0LEAD", channel=CHANNEL)
    assert f"*To* `{oldest}`" in text
    await _confirm(world, ts, user="U0LEAD", channel=CHANNEL)
    root = await eventually(lambda: _rollback_root(world, CHANNEL))
    await world.live_after_publish(CHANNEL, root)
    assert world.stormkit.published_id() == oldest


async def test_anyone_may_roll_back_in_an_incident_channel_only(world: World) -> None:
    """Elsewhere only approvers; the refusal says who can and where."""
    world.nometria.seed_history("proj_abc123", n=2)
    refused = await world.ask("rollback web", user="U0DEV", channel=CHANNEL)
    assert "Only <@U0LEAD> or anyone in an incident channel (<#C0INCIDENT>)" in refused
    ts, text = await _confirmation(world, "rollback web", user="U0DEV", channel=INCIDENT)
    assert "Roll back web?" in text
    await _confirm(world, ts, user="U0DEV", channel=INCIDENT)
    await eventually(lambda: _rollback_root(world, INCIDENT))


async def test_a_double_confirm_rolls_back_once(world: World) -> None:
    world.nometria.seed_history("proj_abc123", n=3)
    ts, _ = await _confirmation(world, "rollback web", user="U0LEAD", channel=CHANNEL)
    for _ in range(2):  # the button clicked twice: two forms open; both are sent at once
        await world.driver.click(
            blocks.ROLLBACK, message_ts=ts, user="U0LEAD", channel=CHANNEL, ephemeral=True
        )
    forms = await eventually(lambda: world.slack.views_opened[1:] and world.slack.views_opened)
    typed = {history_blocks.REASON_BLOCK: {history_blocks.REASON_INPUT: "errors"}}
    await asyncio.gather(*(world.driver.submit_view(form, typed, user="U0LEAD") for form in forms))
    root = await eventually(lambda: _rollback_root(world, CHANNEL))
    await eventually(lambda: "Started" in "\n".join(world.slack.texts_in_thread(CHANNEL, root)))
    await eventually(
        lambda: any("already carried out" in e.all_text for e in world.slack.ephemerals)
    )
    assert len(world.nometria.requests_to("POST", "/v1/deployments/")) == 1


async def test_production_changed_since_the_confirmation_is_refused(world: World) -> None:
    world.stormkit.seed_history(n=3)
    ts, _ = await _confirmation(world, "rollback docs", user="U0LEAD", channel=CHANNEL)
    await world.driver.command("docs", user="U0LEAD", channel=CHANNEL)
    await eventually(lambda: world.stormkit.requests_to("POST", "/v1/deploy"))
    await eventually(
        lambda: any(
            "Started" in t
            for r in world.slack.root_messages(CHANNEL)
            for t in world.slack.texts_in_thread(CHANNEL, r.ts)
        )
    )
    await world.tick(2 + world.stormkit.publish_gap + world.stormkit.warmup)  # the deploy is live
    before = len(world.slack.ephemerals)
    await _confirm(world, ts, user="U0LEAD", channel=CHANNEL)
    told = await world.ephemeral_after(before)
    assert "Production changed since" in told
    assert not [r for r in world.stormkit.requests if r.path.endswith("/publish")]


async def test_nothing_to_roll_back_to_is_said_plainly(world: World) -> None:
    world.stormkit.seed_history(n=1)
    told = await world.ask("rollback docs", user="U0LEAD")
    assert "nothing before" in told


async def test_a_rollback_keeps_a_lock_already_there(world: World) -> None:
    """The app was locked with a reason: the rollback leaves that lock and its reason alone."""
    world.nometria.seed_history("proj_abc123", n=3)
    await world.aloud("lock web db migration running", user="U0DEV")
    ts, _ = await _confirmation(world, "rollback web", user="U0LEAD", channel=CHANNEL)
    await _confirm(world, ts, user="U0LEAD", channel=CHANNEL)
    root = await eventually(lambda: _rollback_root(world, CHANNEL))
    await eventually(lambda: "Started" in world.last_reply(CHANNEL, root))
    lock = await world.runtime.store.locks.get("web")
    assert lock is not None
    assert (lock.locked_by, lock.reason) == ("U0DEV", "db migration running")
    # The form said so before the reason was typed: that lock stays, the reason is only said.
    form = json.dumps(world.slack.views_opened[-1])
    assert "It stays locked by <@U0DEV>: db migration running" in form
    assert "becomes the lock" not in form


async def test_a_rollback_asks_why_says_it_to_the_deployer_and_locks_with_it(
    world: World,
) -> None:
    """The button opens a form; its reason is said in the thread, mentioning who deployed what
    is rolled back, and becomes the lock's reason; the confirmation is replaced."""
    world.nometria.seed_history("proj_abc123", n=2)
    await world.driver.command("web", user="U0DEV", channel=CHANNEL)
    deploy = await eventually(lambda: world.slack.root_messages(CHANNEL))
    for _ in range(6):
        await world.tick()
    await eventually(lambda: "web is live" in world.last_reply(CHANNEL, deploy[0].ts))
    live = world.nometria.live_id("proj_abc123")

    ts, _ = await _confirmation(world, "rollback web", user="U0LEAD", channel=CHANNEL)
    await world.driver.click(
        blocks.ROLLBACK, message_ts=ts, user="U0LEAD", channel=CHANNEL, ephemeral=True
    )
    [form] = await eventually(lambda: world.slack.views_opened)
    assert form["title"]["text"] == "Roll back web?"
    assert "becomes the lock's" in json.dumps(form)  # no lock yet: the reason will be its
    assert form["submit"]["text"] == "Roll back"
    assert world.nometria.requests_to("POST", "/v1/deployments/") == []  # not before the form

    typed = {
        history_blocks.REASON_BLOCK: {history_blocks.REASON_INPUT: "  checkout <broken> & slow "}
    }
    sent = await world.driver.submit_view(form, typed, user="U0LEAD")
    assert sent.status_code == 200
    assert not sent.content  # the form closes
    root = await eventually(lambda: _rollback_root(world, CHANNEL))
    reason = "checkout &lt;broken&gt; &amp; slow"
    said = await eventually(
        lambda: next((t for t in world.slack.texts_in_thread(CHANNEL, root) if "Reason" in t), "")
    )
    assert f"<@U0LEAD> rolls back *web* from `{live}`, deployed by <@U0DEV>, to" in said
    assert f"*Reason:* {reason}" in said
    replaced = await eventually(
        lambda: next(
            (e for e in world.slack.ephemerals if e.ts == ts and "Rolling" in e.text), None
        )
    )
    assert replaced is not None
    refused = await world.ask("web", user="U0DEV")
    assert f"locked by <@U0LEAD>: a rollback in <#C0DEPLOYS> ({reason})" in refused
    [entry] = [e for e in await world.runtime.store.audit.recent("web") if e.action == "rollback"]
    assert entry.detail == f"from {live}: checkout <broken> & slow"


async def test_a_blank_reason_keeps_the_form_open_and_does_nothing(world: World) -> None:
    world.nometria.seed_history("proj_abc123", n=2)
    ts, _ = await _confirmation(world, "rollback web", user="U0LEAD", channel=CHANNEL)
    await world.driver.click(
        blocks.ROLLBACK, message_ts=ts, user="U0LEAD", channel=CHANNEL, ephemeral=True
    )
    [form] = await eventually(lambda: world.slack.views_opened)
    typed = {history_blocks.REASON_BLOCK: {history_blocks.REASON_INPUT: "   "}}
    sent = await world.driver.submit_view(form, typed, user="U0LEAD")
    assert sent.json() == {
        "response_action": "errors",
        "errors": {history_blocks.REASON_BLOCK: "Say why, in a few words."},
    }
    assert world.nometria.requests_to("POST") == []
    assert await world.runtime.store.locks.get("web") is None


async def test_who_may_not_roll_back_gets_no_form(world: World) -> None:
    world.nometria.seed_history("proj_abc123", n=2)
    ts, _ = await _confirmation(world, "rollback web", user="U0DEV", channel=INCIDENT)
    before = len(world.slack.ephemerals)
    await world.driver.click(
        blocks.ROLLBACK, message_ts=ts, user="U0DEV", channel=CHANNEL, ephemeral=True
    )
    refused = await world.ephemeral_after(before)
    assert "Only <@U0LEAD> or anyone in an incident channel" in refused
    assert world.slack.views_opened == []
