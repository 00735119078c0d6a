"""Approval: only approvers click, never the requester, and a build goes live exactly once."""

from __future__ import annotations

import asyncio

import pytest

from bot.render import blocks
from tests.conftest import STORMKIT_FLAVOURS, World, eventually

CHANNEL = "C0DEPLOYS"


@pytest.fixture(params=STORMKIT_FLAVOURS)
def stormkit_flavour(request: pytest.FixtureRequest) -> str:
    """Every test here runs against the seed's Stormkit and against its server of today."""
    return str(request.param)


async def _root(world: World, text: str, user: str = "U0DEV") -> str:
    """Send a deploy and return its root message once its thread has begun."""
    before = len(world.slack.root_messages(CHANNEL))
    await world.driver.command(text, user=user, channel=CHANNEL)
    roots = await eventually(lambda: world.slack.root_messages(CHANNEL)[before:])
    ts: str = roots[0].ts
    await eventually(lambda: world.slack.thread(CHANNEL, ts))
    return ts


async def _prompt(world: World, root_ts: str) -> str:
    """The thread reply that carries the Approve button."""

    def find() -> str | None:
        for message in world.slack.thread(CHANNEL, root_ts):
            if blocks.APPROVE in str(message.blocks):
                return message.ts
        return None

    return str(await eventually(find))


async def _click(world: World, action: str, ts: str, user: str) -> str:
    before = len(world.slack.ephemerals)
    response = await world.driver.click(action, message_ts=ts, user=user, channel=CHANNEL)
    assert response.status_code == 200
    return await world.ephemeral_after(before)


async def _stormkit_ready(world: World) -> tuple[str, str]:
    root = await _root(world, "blog")
    await world.tick(2)
    return root, await _prompt(world, root)


async def test_stormkit_build_waits_and_an_approver_publishes_it_once(world: World) -> None:
    """publish: false, then Approve & publish: one publish, who approved shown, buttons gone."""
    root, prompt = await _stormkit_ready(world)
    [deploy] = world.stormkit.requests_to("POST", "/v1/deploy")
    assert deploy.json["publish"] is False
    assert world.stormkit.published_id() is None
    assert "Approve & publish" in str(world.slack.message(CHANNEL, prompt).blocks)  # type: ignore[union-attr]

    await world.driver.click(blocks.APPROVE, message_ts=prompt, user="U0LEAD", channel=CHANNEL)
    await world.live_after_publish(CHANNEL, root)
    assert await world.runtime.store.in_flight() == []

    publishes = world.stormkit.requests_to("POST", "/v1/deployments/")
    assert [r.path.endswith("/publish") for r in publishes] == [True]
    prompt_now = world.slack.message(CHANNEL, prompt)
    assert prompt_now is not None
    assert "Approved by <@U0LEAD>" in prompt_now.text
    assert blocks.APPROVE not in str(prompt_now.blocks)
    assert "U0LEAD" in str(world.slack.message(CHANNEL, root).blocks)  # type: ignore[union-attr]

    again = await _click_stale(world, prompt, "U0LEAD2")
    assert "Already approved by <@U0LEAD>" in again
    assert len(world.stormkit.requests_to("POST", "/v1/deployments/")) == 1


async def _click_stale(world: World, ts: str, user: str) -> str:
    """A click on a button the person still sees in an older copy of the message."""
    before = len(world.slack.ephemerals)
    value = _original_value(world, ts)
    await world.driver.click(
        blocks.APPROVE, value, message_ts=ts, user=user, channel=CHANNEL, require_button=False
    )
    return await world.ephemeral_after(before)


async def test_two_approvers_clicking_at_once_publish_once(world: World) -> None:
    """Concurrent clicks: one wins the compare-and-set, the other is told who approved."""
    root, prompt = await _stormkit_ready(world)
    before = len(world.slack.ephemerals)
    await asyncio.gather(
        world.driver.click(blocks.APPROVE, message_ts=prompt, user="U0LEAD", channel=CHANNEL),
        world.driver.click(blocks.APPROVE, message_ts=prompt, user="U0LEAD2", channel=CHANNEL),
    )
    told = await world.ephemeral_after(before)
    await world.live_after_publish(CHANNEL, root)
    publishes = [r for r in world.stormkit.requests if r.path.endswith("/publish")]
    assert len(publishes) == 1
    assert "Already approved" in told or "just decided" in told


async def test_the_requester_and_non_approvers_cannot_approve(world: World) -> None:
    """Refusals say why and who can; nothing is published."""
    _, prompt = await _stormkit_ready(world)
    own = await _click(world, blocks.APPROVE, prompt, "U0DEV")
    assert "someone else must approve" not in own  # who may approve comes first
    assert "Only <@U0LEAD>, <@U0LEAD2> may approve `blog`" in own
    assert world.stormkit.published_id() is None

    root = await _root(world, "blog", user="U0LEAD")
    await world.tick(2)
    own_prompt = await _prompt(world, root)
    self_approval = await _click(world, blocks.APPROVE, own_prompt, "U0LEAD")
    assert "someone else must approve it: <@U0LEAD2>" in self_approval
    assert not [r for r in world.stormkit.requests if r.path.endswith("/publish")]


async def test_refused_clicks_are_in_the_audit_log(world: World) -> None:
    """A non-approver's click, a self-approval and a second click: each one audited, with the
    app and the deployment it was about."""
    first, prompt = await _stormkit_ready(world)
    await _click(world, blocks.APPROVE, prompt, "U0DEV")  # not an approver
    await world.driver.click(blocks.APPROVE, message_ts=prompt, user="U0LEAD", channel=CHANNEL)
    await world.live_after_publish(CHANNEL, first)
    root = await _root(world, "blog", user="U0LEAD")
    await world.tick(2)
    await _click(world, blocks.APPROVE, await _prompt(world, root), "U0LEAD")  # self-approval
    await _click_stale(world, prompt, "U0LEAD2")  # already decided

    entries = await world.runtime.store.audit.recent("blog", limit=20)
    refused = [
        (e.user, e.action, e.deployment_id is not None) for e in entries if e.outcome == "refused"
    ]
    assert refused == [
        ("U0LEAD2", "approve", True),
        ("U0LEAD", "approve", True),
        ("U0DEV", "approve", True),
    ]
    details = [e.detail for e in entries if e.outcome == "refused"]
    assert "Already approved by <@U0LEAD>" in details[0]
    assert "someone else must approve" in details[1]
    assert "Only <@U0LEAD>, <@U0LEAD2> may approve" in details[2]


async def test_nometria_approval_gates_the_trigger_itself(world: World) -> None:
    """Nothing reaches Nometria until Approve; then it is triggered once and followed to live."""
    root = await _root(world, "shop a1b2c3d FEATURE=on")
    prompt = await _prompt(world, root)
    assert world.nometria.requests_to("POST") == []  # what is live was read, not more
    assert "waiting for approval" in world.slack.message(CHANNEL, root).text  # type: ignore[union-attr]

    await world.driver.click(blocks.APPROVE, message_ts=prompt, user="U0LEAD2", channel=CHANNEL)
    await eventually(lambda: world.nometria.requests_to("POST", "/v1/deployments"))
    [trigger] = world.nometria.requests_to("POST", "/v1/deployments")
    assert trigger.json == {
        "project_id": "proj_shop",
        "commit_sha": "a1b2c3d",
        "env_vars": {"FEATURE": "on"},
    }
    await eventually(lambda: "Started" in world.last_reply(CHANNEL, root))
    for _ in range(3):
        await world.tick()
    assert "shop is live" in world.last_reply(CHANNEL, root)


async def test_discard_triggers_nothing(world: World) -> None:
    """The requester may discard; the buttons go and nothing is ever triggered."""
    root = await _root(world, "shop")
    prompt = await _prompt(world, root)
    await world.driver.click(blocks.DISCARD, message_ts=prompt, user="U0DEV", channel=CHANNEL)
    await eventually(lambda: "Discarded" in world.slack.message(CHANNEL, prompt).text)  # type: ignore[union-attr]
    await world.tick()
    assert world.nometria.requests_to("POST") == []
    later = await _click_value(world, prompt, _original_value(world, prompt))
    assert "Already discarded by <@U0DEV>" in later


def _original_value(world: World, ts: str) -> str:
    """The button's value as the message first showed it (someone may still see that copy)."""
    message = world.slack.message(CHANNEL, ts)
    assert message is not None
    _, first_blocks = message.history[0]
    [value] = [
        element["value"]
        for block in first_blocks
        for element in block.get("elements", [])
        if element.get("action_id") == blocks.APPROVE
    ]
    return str(value)


async def test_autopublish_going_live_without_approval_is_said_loudly(world: World) -> None:
    """A Stormkit environment with autoPublish publishes anyway: the thread and channel hear it.

    That is the seed's reading (publish overrides autoPublish); today's server publishes an API
    deploy only when it asked to, and the approval holds.
    """
    world.stormkit.set_auto_publish(True)
    if world.stormkit.flavour == "server":
        root = await _root(world, "blog")
        await world.tick(2 + world.stormkit.publish_gap + world.stormkit.warmup)
        await _prompt(world, root)
        assert world.stormkit.published_id() is None
        assert not any("WITHOUT" in t for t in world.slack.texts_in_thread(CHANNEL, root))
        return
    root = await _root(world, "blog")
    await eventually(lambda: world.stormkit.requests_to("POST", "/v1/deploy"))
    await eventually(lambda: world.slack.thread(CHANNEL, root))
    await world.tick(2)
    warning = world.slack.thread(CHANNEL, root)[-1]
    assert "WITHOUT approval" in warning.text
    [post] = [c for c in world.slack.calls_to("chat.postMessage") if "WITHOUT" in str(c.args)]
    assert post.args.get("reply_broadcast") is True


async def test_a_button_from_another_deployment_is_refused(world: World) -> None:
    """A forged value (another row's id on this message) does nothing."""
    _, prompt = await _stormkit_ready(world)
    told = await _click_value(world, prompt, "999")
    assert "does not belong" in told
    told = await _click_value(world, prompt, "not-a-number")
    assert "does not belong" in told
    assert world.stormkit.published_id() is None


async def _click_value(world: World, ts: str, value: str) -> str:
    before = len(world.slack.ephemerals)
    await world.driver.click(
        blocks.APPROVE, value, message_ts=ts, user="U0LEAD", channel=CHANNEL, require_button=False
    )
    return await world.ephemeral_after(before)


async def test_a_publish_whose_warm_up_fails_ends_as_failed(world: World) -> None:
    """Approve & publish on today's server: the warm-up fails, the thread says failed, once."""
    if world.stormkit.flavour == "seed":
        pytest.skip("the seed's Stormkit publishes at once: there is no warm-up to fail")
    root, prompt = await _stormkit_ready(world)
    world.stormkit.fail_warmup_next()
    await world.driver.click(blocks.APPROVE, message_ts=prompt, user="U0LEAD", channel=CHANNEL)
    await eventually(lambda: "is deploying" in world.last_reply(CHANNEL, root))
    await world.tick(world.stormkit.warmup)

    text = world.last_reply(CHANNEL, root)
    assert "blog failed" in text
    assert "Stormkit did not publish it" in text
    assert world.lives(CHANNEL, root) == 0
    assert world.stormkit.published_id() is None
    assert await world.runtime.store.in_flight() == []


async def test_a_discarded_build_cannot_be_published(world: World) -> None:
    """Discarded is a decision: `/deploy publish` refuses it and says how to ship it instead."""
    root, prompt = await _stormkit_ready(world)
    await world.driver.click(blocks.DISCARD, message_ts=prompt, user="U0DEV", channel=CHANNEL)
    await eventually(lambda: "Discarded" in world.slack.message(CHANNEL, prompt).text)  # type: ignore[union-attr]
    dep = next(iter(world.stormkit.deployments))
    answer = await world.ask(f"publish blog {dep}", user="U0LEAD")
    assert f"`{dep}` was discarded by <@U0DEV>, so it will not be published." in answer
    assert "deploy it again (`/deploy blog main`)" in answer  # the branch Stormkit built
    assert world.stormkit.published_id() is None
    [entry, *_] = await world.runtime.store.audit.recent("blog")
    assert (entry.user, entry.action, entry.outcome) == ("U0LEAD", "publish", "refused")

    thread = world.slack.texts_in_thread(CHANNEL, root)
    stop = await world.ask(f"stop blog {dep}", user="U0DEV")  # built: nothing left to stop
    assert f"`{dep}` has already ended (ready)" in stop
    await world.tick()
    assert world.slack.texts_in_thread(CHANNEL, root) == thread
    message = world.slack.message(CHANNEL, root)
    assert message is not None
    assert message.edit_count >= 2  # the root was drawn again after the discard
    assert "discarded by <@U0DEV>: not published" in message.all_text  # and still says so
    assert message.text.endswith(": discarded")
