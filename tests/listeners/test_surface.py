"""Every `/deploy` command over real HTTP: answers, refusals and errors, nothing sent in vain."""

from __future__ import annotations

import pytest

from tests.conftest import STORMKIT_FLAVOURS, World, eventually

CHANNEL = "C0DEPLOYS"


@pytest.mark.parametrize("text", ["", "help"])
async def test_help_lists_every_command(world: World, text: str) -> None:
    answer = await world.ask(text)
    for line in ("/deploy <app> [ref]", "/deploy rollback <app>", "/deploy lock <app>"):
        assert line in answer
    # What locks do is said as the lock's announcement and refusal say it.
    assert "During a freeze or a lock, deploys are refused until" in answer
    assert "A rollback locks the app's deploys until someone unlocks it" in answer


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("wbe", "There is no app called `wbe`. Did you mean `web`?"),
        ("status", "Add an app name after `/deploy status`."),
        ("logs web", "Add a deployment id after `/deploy logs web`."),
        ("rollback web a b", "Leave out `b`: `rollback` does not take it."),
        ("web ../x", "is not a branch or commit"),
        ("docs main KEY=1", "`docs` is on stormkit, which takes no KEY=VALUE overrides"),
        ("stop web dep_1 extra", "Leave out `extra`: `stop` does not take it."),
        ("web " + "a" * 1200, "characters long"),
        ("web \u202emain", "is not a branch or commit"),
    ],
)
async def test_bad_input_gets_usage_and_sends_nothing(
    world: World, text: str, expected: str
) -> None:
    answer = await world.ask(text)
    assert expected in answer
    assert "Usage: `/deploy" in answer
    assert answer.count("/deploy") - expected.count("/deploy") == 1  # the usage, said once
    assert world.nometria.requests == []
    assert world.stormkit.requests == []
    assert world.slack.calls_to("chat.postMessage") == []


async def test_apps_lists_what_this_channel_may_deploy(world: World) -> None:
    here = await world.ask("apps", channel=CHANNEL)
    assert "*vault* (nometria)" in here
    assert "*shop* (nometria): approval by <@U0LEAD>, <@U0LEAD2>" in here
    elsewhere = await world.ask("apps", channel="C0OTHER")
    assert "vault" not in elsewhere
    assert "*web*" in elsewhere


async def test_status_marks_the_live_deployment_and_shows_the_audit(world: World) -> None:
    live, older, _ = world.stormkit.seed_history(n=3)
    await world.aloud("lock docs freeze for the launch", user="U0DEV")
    answer = await world.ask("status docs")
    assert f"`{live}`" in answer
    line = next(line for line in answer.splitlines() if f"`{live}`" in line)
    assert "← *live*" in line
    assert "← *live*" not in next(line for line in answer.splitlines() if f"`{older}`" in line)
    assert "Locked by <@U0DEV>: freeze for the launch" in answer
    assert "<@U0DEV> locked it" in answer


async def test_logs_shows_an_excerpt_with_secrets_masked(world: World) -> None:
    world.nometria.fail_next()
    await world.driver.command("web", channel=CHANNEL)
    [trigger] = await eventually(lambda: world.nometria.requests_to("POST", "/v1/deployments"))
    await world.tick(3)
    dep = next(iter(world.nometria.deployments))
    answer = await world.ask(f"logs web {dep}")
    assert "Cannot find module" in answer
    assert "sk_live_abc123" not in answer
    assert trigger.json == {"project_id": "proj_abc123"}


async def test_operations_nometria_lacks_are_said_plainly(world: World) -> None:
    for verb, words in (("stop", "has no stop"), ("publish", "no separate publish")):
        answer = await world.ask(f"{verb} web dep_1234", user="U0LEAD")
        assert words in answer
    assert world.nometria.requests == []


async def test_stop_and_restart_a_stormkit_deployment_in_its_thread(world: World) -> None:
    await world.driver.command("docs", channel=CHANNEL)
    [deploy] = await eventually(lambda: world.stormkit.requests_to("POST", "/v1/deploy"))
    root = (await eventually(lambda: world.slack.root_messages(CHANNEL)))[0].ts
    await eventually(lambda: "Started" in world.last_reply(CHANNEL, root))
    dep = next(iter(world.stormkit.deployments))

    await world.driver.command(f"stop docs {dep}", channel=CHANNEL)
    await eventually(lambda: "Stop requested by <@U0DEV>" in world.last_reply(CHANNEL, root))
    assert world.stormkit.requests_to("POST", f"/v1/deployments/{dep}/stop")
    await world.tick()
    assert "docs stopped" in world.last_reply(CHANNEL, root)

    await world.driver.command(f"restart docs {dep}", channel=CHANNEL)
    await eventually(lambda: "Restarted by <@U0DEV>" in world.last_reply(CHANNEL, root))
    assert world.stormkit.requests_to("POST", f"/v1/deployments/{dep}/restart")
    await world.runtime.door.drain()
    assert world.slack.ephemerals == []  # said once, in the thread
    await world.tick(2)
    assert "docs is live" in world.last_reply(CHANNEL, root)
    assert deploy.json["branch"] == "main"


async def test_a_restart_of_a_live_deployment_is_refused_saying_what_is_true(world: World) -> None:
    """It is live (not "has not failed": a stopped one restarts too), its id as every id is
    shown; Stormkit is not asked."""
    [dep, *_] = world.stormkit.seed_history(n=1)
    answer = await world.ask(f"restart docs {dep}")
    assert f"`{dep}` is live: only a failed or stopped deployment can be restarted." in answer
    assert "Deployment" not in answer
    assert world.stormkit.requests_to("POST", f"/v1/deployments/{dep}/restart") == []


@pytest.mark.parametrize("stormkit_flavour", STORMKIT_FLAVOURS)
async def test_publish_makes_a_built_stormkit_deployment_live(world: World) -> None:
    """Live at once on the seed's Stormkit; on today's, followed through its warm-up."""
    live, older, _ = world.stormkit.seed_history(n=3)
    refused = await world.ask(f"publish docs {older}", user="U0DEV")
    assert "Only <@U0LEAD> may publish `docs`" in refused
    answer = await world.ask(f"publish docs {older}", user="U0LEAD")
    server = world.stormkit.flavour == "server"
    assert (f"Publishing `{older}`" if server else f"Published `{older}`") in answer
    [root] = world.slack.root_messages(CHANNEL)
    await world.live_after_publish(CHANNEL, root.ts)
    assert world.stormkit.published_id() == older
    assert live != older
    await world.runtime.outbox.idle()  # the root's edit follows the reply
    now = world.slack.message(CHANNEL, root.ts)
    assert now is not None
    assert now.text.startswith(":white_check_mark: Publish docs")  # still a publish thread
    assert "Requested by*\\n<@U0LEAD>" in str(now.blocks)  # who published it


async def test_publishing_a_followed_deployment_says_who_in_its_thread(world: World) -> None:
    """A deployment the bot followed gets the publish in its own thread, with who did it."""
    await world.driver.command("docs", channel=CHANNEL)
    root = (await eventually(lambda: world.slack.root_messages(CHANNEL)))[0].ts
    for _ in range(4):
        await world.tick()
    await eventually(lambda: "docs is live" in world.last_reply(CHANNEL, root))
    first = next(iter(world.stormkit.deployments))
    world.stormkit.seed_history(n=1)  # something else went live since
    await world.ask(f"publish docs {first}", user="U0LEAD")
    await eventually(
        lambda: "Published by <@U0LEAD>." in "".join(world.slack.texts_in_thread(CHANNEL, root))
    )
    assert world.stormkit.published_id() == first


async def test_a_lock_stops_deploys_until_unlocked(world: World) -> None:
    """Lock and unlock are said once, in the channel; the refusal names who can unlock."""
    locked = await world.aloud("lock web db migration running", user="U0DEV")
    assert "*web* is locked by <@U0DEV>: db migration running." in locked
    # The announcement says what the refusal below does: refused, not "waiting", and who may force.
    assert "Deploys are refused until it is unlocked (`/deploy unlock web`)" in locked
    assert 'its approvers (<@U0LEAD>) may deploy anyway with `--force "reason"`' in locked
    assert "Rollbacks still work." in locked
    refused = await world.ask("web", user="U0DEV")
    assert "`web` is locked by you: db migration running" in refused  # to who locked it
    assert "You or its approvers (<@U0LEAD>) can `/deploy unlock web`" in refused
    by_another = await world.ask("web", user="U0DEV2")
    assert "<@U0DEV> or its approvers (<@U0LEAD>) can `/deploy unlock web`" in by_another
    assert world.nometria.requests == []
    unlocked = await world.aloud("unlock web", user="U0DEV")  # the locker may
    assert "*web* is unlocked by <@U0DEV> (it was locked by <@U0DEV>: db migration" in unlocked
    assert "Nothing to unlock: `web` is not locked." in await world.ask("unlock web", user="U0LEAD")


async def test_a_lock_without_a_reason_and_a_second_lock(world: World) -> None:
    """No reason reads "locked by @lead." once; locking again is refused, the reason kept."""
    locked = await world.aloud("lock web", user="U0LEAD")
    assert "*web* is locked by <@U0LEAD>. Deploys are refused until it is unlocked" in locked
    again = await world.ask("lock web another reason", user="U0DEV")
    assert "`web` is already locked by <@U0LEAD>. To give another reason" in again
    assert "`/deploy unlock web` first" in again
    lock = await world.runtime.store.locks.get("web")
    assert lock is not None
    assert (lock.locked_by, lock.reason) == ("U0LEAD", "")
    refused = await world.ask("unlock web", user="U0DEV")
    assert "`web` is locked by <@U0LEAD>. Its approvers (<@U0LEAD>) can unlock it" in refused


async def test_deployers_and_channels_are_enforced(world: World) -> None:
    not_a_deployer = await world.ask("vault", user="U0OTHER")
    assert "You may not deploy `vault`. Deployers: <@U0DEV>" in not_a_deployer
    wrong_channel = await world.ask("vault", user="U0DEV", channel="C0OTHER")
    assert (
        "Deploys of `vault` are asked for in <#C0DEPLOYS> only: type `/deploy vault` there."
        in wrong_channel
    )
    assert world.nometria.requests == []


async def test_only_those_who_may_deploy_read_logs(world: World) -> None:
    """`logs` has a rule too: someone outside `deployers` is told who may, nothing is read."""
    answer = await world.ask("logs vault dep_1", user="U0OTHER")
    assert "Only those who may deploy `vault` may read its logs." in answer
    assert world.nometria.requests == []


async def test_provider_errors_reach_the_person_in_plain_words(world: World) -> None:
    world.stormkit.error_style = "errors_list"
    answer = await world.ask("logs docs 999999")
    assert "Stormkit found no" in answer or "not found" in answer.lower()
    assert "sk-env-key" not in answer


async def test_refusals_and_failures_are_audited(world: World) -> None:
    await world.ask("vault", user="U0OTHER")
    rows = await world.runtime.store.audit.recent("vault")
    assert [(r.user, r.action, r.outcome) for r in rows] == [("U0OTHER", "deploy", "refused")]
    assert "Deployers" in rows[0].detail
