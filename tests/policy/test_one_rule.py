"""One rule, every path: an Approve click, a publish and a restart are held by a lock or a
freeze as a `/deploy` is (and break glass the same way); "awaiting approval" comes from the row;
an approval never puts an older build live over a newer one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.render import blocks
from tests.conftest import World, eventually

CHANNEL = "C0DEPLOYS"
FREEZE_AT = datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=20)


@pytest.fixture
def apps_extra() -> str:
    """`docs` freezes 20 minutes from now: a test moves the bot's clock into it."""
    return f"""
[[freezes]]
apps = ["docs"]
start = "{FREEZE_AT.isoformat()}"
end = "{(FREEZE_AT + timedelta(hours=3)).isoformat()}"
reason = "Quarter close"
"""


async def _root(world: World, text: str, user: str = "U0DEV") -> str:
    before = len(world.slack.root_messages(CHANNEL))
    await world.driver.command(text, user=user, channel=CHANNEL)
    roots = await eventually(lambda: world.slack.root_messages(CHANNEL)[before:])
    return str(roots[0].ts)


async def _prompt(world: World, root: str) -> str:
    def find() -> str | None:
        for message in world.slack.thread(CHANNEL, root):
            if blocks.APPROVE in str(message.blocks):
                return message.ts
        return None

    return str(await eventually(find))


async def _click(world: World, ts: str, user: str) -> str:
    before = len(world.slack.ephemerals)
    await world.driver.click(blocks.APPROVE, message_ts=ts, user=user, channel=CHANNEL)
    return await world.ephemeral_after(before)


def _publishes(world: World) -> list[str]:
    return [r.path for r in world.stormkit.requests if r.path.endswith("/publish")]


async def _built(world: World, user: str = "U0DEV") -> tuple[str, str, str]:
    """A `blog` build waiting for its approval: its root, its prompt and its id."""
    before = set(world.stormkit.deployments)
    root = await _root(world, "blog", user=user)
    await eventually(lambda: set(world.stormkit.deployments) - before)
    [dep] = set(world.stormkit.deployments) - before
    await world.tick(2)
    return root, await _prompt(world, root), dep


async def test_an_approval_under_a_lock_taken_while_it_waited_is_refused_with_how_to_force(
    world: World,
) -> None:
    """The click is refused with the lock and the command that breaks glass; that command
    publishes it once, said to the channel and audited."""
    root, prompt, dep = await _built(world)
    assert "locked" in await world.aloud("lock blog database move", user="U0DEV2")

    refused = await _click(world, prompt, "U0LEAD")
    assert "`blog` is locked by <@U0DEV2>: database move." in refused
    assert "the prompt stays" in refused
    assert f'`/deploy publish blog {dep} --force "reason"`' in refused
    assert _publishes(world) == []
    assert blocks.APPROVE in str(world.slack.message(CHANNEL, prompt).blocks)  # type: ignore[union-attr]
    [entry, *_] = await world.runtime.store.audit.recent("blog")
    assert (entry.user, entry.action, entry.outcome) == ("U0LEAD", "approve", "refused")

    before = len(world.slack.root_messages(CHANNEL))
    await world.driver.command(
        f'publish blog {dep} --force "checkout <broken>"', user="U0LEAD", channel=CHANNEL
    )
    await eventually(lambda: _publishes(world))
    [said] = world.slack.root_messages(CHANNEL)[before:]
    assert f"<@U0LEAD> is publishing `{dep}` of *blog* anyway." in said.all_text
    assert "locked by <@U0DEV2>: database move" in said.all_text
    assert "Their reason: checkout &lt;broken&gt;" in said.all_text
    await world.live_after_publish(CHANNEL, root)
    assert len(_publishes(world)) == 1
    assert "Approved by <@U0LEAD>" in world.slack.message(CHANNEL, prompt).text  # type: ignore[union-attr]
    assert not any("WITHOUT" in t for t in world.slack.texts_in_thread(CHANNEL, root))
    entries = await world.runtime.store.audit.recent("blog", limit=10)
    forced = next(e for e in entries if e.outcome == "forced")
    assert (forced.user, forced.action, forced.deployment_id) == ("U0LEAD", "publish", dep)
    assert forced.detail.startswith("break glass: checkout <broken>")


async def test_a_nometria_approval_under_a_lock_triggers_nothing(world: World) -> None:
    """Approving would deploy it: refused, with the way to deploy anyway; nothing is sent."""
    root = await _root(world, "shop")
    prompt = await _prompt(world, root)
    await world.aloud("lock shop payments audit", user="U0LEAD2")
    refused = await _click(world, prompt, "U0LEAD")
    assert "`shop` is locked by <@U0LEAD2>: payments audit." in refused
    assert 'Discard it and `/deploy shop --force "reason"`' in refused
    assert world.nometria.requests_to("POST") == []

    await world.aloud("unlock shop", user="U0LEAD2")
    await world.driver.click(blocks.APPROVE, message_ts=prompt, user="U0LEAD", channel=CHANNEL)
    await eventually(lambda: world.nometria.requests_to("POST", "/v1/deployments"))


async def test_a_publish_before_the_prompt_by_the_requester_is_refused(world: World) -> None:
    """The row awaits approval from the start, prompt posted or not: the requester's publish
    is their own approval, refused under allow_self_approval = false; nothing goes live."""
    before = set(world.stormkit.deployments)
    root = await _root(world, "blog", user="U0LEAD")
    await eventually(lambda: set(world.stormkit.deployments) - before)
    [dep] = set(world.stormkit.deployments) - before
    # The trigger's answer is recorded once the bot reads it: wait for the row, not the fake.
    row = await eventually(lambda: world.runtime.store.find("blog", dep))
    world.clock.advance(5)  # built at Stormkit; no poll has seen it, nothing prompted
    assert row.pending
    assert row.prompt_ts is None

    refused = await world.ask(f"publish blog {dep}", user="U0LEAD")
    assert "You requested this deployment, so someone else must approve it: <@U0LEAD2>" in refused
    assert _publishes(world) == []
    await world.tick()
    prompt = await _prompt(world, root)  # the approval goes on as usual
    assert not any("WITHOUT" in t for t in world.slack.texts_in_thread(CHANNEL, root))
    await world.driver.click(blocks.APPROVE, message_ts=prompt, user="U0LEAD2", channel=CHANNEL)
    await world.live_after_publish(CHANNEL, root)
    assert len(_publishes(world)) == 1


async def test_approving_a_build_older_than_a_newer_one_is_refused_with_what_to_do(
    world: World,
) -> None:
    """A newer build waits for approval: approve that one. Once it is live, the older build is
    refused again, pointing at a rollback for going back on purpose."""
    _, old_prompt, old = await _built(world)
    new_root, new_prompt, new = await _built(world)

    refused = await _click(world, old_prompt, "U0LEAD")
    assert f"A newer build of *blog*, `{new}`, is waiting for approval" in refused
    assert "approve that one instead" in refused
    assert _publishes(world) == []
    answer = await world.ask(f"publish blog {old}", user="U0LEAD2")  # publishing is approving
    assert f"`{new}`, is waiting for approval" in answer
    assert _publishes(world) == []

    await world.driver.click(blocks.APPROVE, message_ts=new_prompt, user="U0LEAD", channel=CHANNEL)
    await world.live_after_publish(CHANNEL, new_root)
    refused = await _click(world, old_prompt, "U0LEAD2")
    assert f"`{new}`, newer than `{old}`, is live now" in refused
    assert f"`/deploy rollback blog {old}`" in refused
    assert [p.split("/")[-2] for p in _publishes(world)] == [new]
    entries = await world.runtime.store.audit.recent("blog", limit=20)
    refusals = [e for e in entries if e.outcome == "refused"]
    assert [(e.action, e.deployment_id) for e in refusals] == [
        ("approve", old),
        ("publish", old),
        ("approve", old),
    ]


async def test_a_restart_during_a_freeze_is_refused_and_an_approver_may_force_it(
    world: World,
) -> None:
    root = await _root(world, "docs")
    await eventually(lambda: "Started" in world.last_reply(CHANNEL, root))
    dep = next(iter(world.stormkit.deployments))
    await world.driver.command(f"stop docs {dep}", channel=CHANNEL)
    await eventually(lambda: "Stop requested" in world.last_reply(CHANNEL, root))
    await world.tick()
    world.wall.offset = timedelta(minutes=30)  # the freeze holds now

    refused = await world.ask(f"restart docs {dep}", user="U0DEV")
    assert "`docs` is frozen until" in refused
    assert "Quarter close" in refused
    assert f'`/deploy restart docs {dep} --force "reason"`' in refused
    assert world.stormkit.requests_to("POST", f"/v1/deployments/{dep}/restart") == []
    refused = await world.ask(f'restart docs {dep} --force "hotfix"', user="U0DEV")
    assert "Only <@U0LEAD> may restart it anyway." in refused

    before = len(world.slack.root_messages(CHANNEL))
    await world.driver.command(
        f'restart docs {dep} --force "hotfix"', user="U0LEAD", channel=CHANNEL
    )
    await eventually(lambda: world.stormkit.requests_to("POST", f"/v1/deployments/{dep}/restart"))
    [said] = await eventually(lambda: world.slack.root_messages(CHANNEL)[before:])
    assert f"<@U0LEAD> is restarting `{dep}` of *docs* anyway. `docs` is frozen" in said.all_text
    await eventually(lambda: "Restarted by <@U0LEAD>" in world.last_reply(CHANNEL, root))


async def test_the_home_tabs_deploy_is_held_by_a_lock_as_a_deploy_is(world: World) -> None:
    """The tab's Deploy is a `/deploy`: once locked the tab offers none and says why, and a
    click on a tab drawn before the lock is refused at the top of the tab, with how to force it.
    (vault names its channel: the tab deploys only there.)"""
    root = await _root(world, "vault")
    await eventually(lambda: "Started" in world.last_reply(CHANNEL, root))
    for _ in range(4):
        await world.tick()
    before = world.slack.home_publishes.get("U0DEV", 0)
    await world.driver.home_opened("U0DEV")
    await eventually(lambda: world.slack.home_publishes.get("U0DEV", 0) > before)
    stale = world.slack.home_views["U0DEV"]
    assert "Deploy latest commit" in world.slack.home_text("U0DEV")

    await world.aloud("lock vault incident review", user="U0LEAD")
    before = world.slack.home_publishes.get("U0DEV", 0)
    await world.driver.home_opened("U0DEV")
    await eventually(lambda: world.slack.home_publishes.get("U0DEV", 0) > before)
    tab = world.slack.home_text("U0DEV")
    assert "No Deploy button: `vault` is locked by <@U0LEAD>: incident review." in tab
    with pytest.raises(LookupError):
        await world.driver.click_home("deploybot_home_deploy", "vault", user="U0DEV")

    world.slack.home_views["U0DEV"] = stale  # a tab drawn before the lock, still on screen
    await world.driver.click_home("deploybot_home_deploy", "vault", user="U0DEV")
    said = await eventually(
        lambda: (
            ":no_entry: `vault`" in world.slack.home_text("U0DEV")
            and world.slack.home_text("U0DEV")
        )
    )
    assert "`vault` is locked by <@U0LEAD>: incident review." in said
    assert '`/deploy vault --force "reason"`' in said
    assert len(world.nometria.requests_to("POST", "/v1/deployments")) == 1
