"""`/deploy stop` of a deployment that already ended is refused, as `restart` of one that did
not fail is: nothing is sent to stop it, its old thread hears nothing, no stop is audited."""

from __future__ import annotations

from tests.conftest import World, eventually

CHANNEL = "C0DEPLOYS"


async def _live_docs(world: World) -> tuple[str, str]:
    """Deploy docs through a slash command until its thread says live: (root ts, id)."""
    await world.driver.command("docs", channel=CHANNEL)
    [root] = await eventually(lambda: world.slack.root_messages(CHANNEL))
    await eventually(lambda: "Started" in world.last_reply(CHANNEL, root.ts))
    for _ in range(4):
        await world.tick()
    await eventually(lambda: "is live" in world.last_reply(CHANNEL, root.ts))
    [dep] = list(world.stormkit.deployments)
    return root.ts, dep


async def test_stop_of_a_live_deployment_is_refused_and_its_thread_hears_nothing(
    world: World,
) -> None:
    root, dep = await _live_docs(world)
    thread = world.slack.texts_in_thread(CHANNEL, root)

    said = await world.ask(f"stop docs {dep}")

    assert f"`{dep}` has already ended (live): only a deployment still under way" in said
    assert world.stormkit.requests_to("POST", f"/v1/deployments/{dep}/stop") == []
    await world.runtime.door.drain()
    await world.runtime.outbox.idle()
    assert world.slack.texts_in_thread(CHANNEL, root) == thread
    entries = await world.runtime.store.audit.recent("docs", limit=20)
    stops = [(e.action, e.outcome) for e in entries if e.action == "stop"]
    assert stops == [("stop", "refused")]
    status = await world.ask("status docs")
    assert "stopped" not in status  # the recent actions do not say it was stopped


async def test_stop_of_a_deployment_made_elsewhere_that_ended_is_refused(world: World) -> None:
    """One the bot never followed: refused the same way, with no thread opened for it."""
    [dep] = world.stormkit.seed_history(n=1)
    said = await world.ask(f"stop docs {dep}")
    assert f"`{dep}` has already ended (live)" in said
    assert world.stormkit.requests_to("POST") == []
    assert world.slack.root_messages(CHANNEL) == []


async def test_stop_of_a_running_deployment_still_works(world: World) -> None:
    await world.driver.command("docs", channel=CHANNEL)
    [root] = await eventually(lambda: world.slack.root_messages(CHANNEL))
    await eventually(lambda: "Started" in world.last_reply(CHANNEL, root.ts))
    [dep] = list(world.stormkit.deployments)
    await world.driver.command(f"stop docs {dep}", channel=CHANNEL)
    await eventually(lambda: "Stop requested by <@U0DEV>" in world.last_reply(CHANNEL, root.ts))
    assert world.stormkit.requests_to("POST", f"/v1/deployments/{dep}/stop")
