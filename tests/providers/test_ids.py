"""A deployment ID a person types must belong to the app: one Nometria key covers every project
of the account, one Stormkit key may reach several environments. Another app's deployment is
refused in words, audited, and nothing about it is sent or shown."""

from __future__ import annotations

import pytest

from tests.conftest import World, eventually

INCIDENT = "C0INCIDENT"
CHANNEL = "C0DEPLOYS"


def _other_project(world: World) -> tuple[str, str]:
    """The live deployment of another Nometria project, and the one before it."""
    world.nometria.seed_history("proj_abc123", n=2)
    live, previous = world.nometria.seed_history("proj_other", n=2)
    return live, previous


async def _refusal_of(world: World, action: str, app: str, dep: str) -> None:
    [entry, *_] = await eventually(lambda: world.runtime.store.audit.recent(app))
    assert (entry.action, entry.outcome, entry.deployment_id) == (action, "refused", dep)
    assert f"`{dep}` is not a deployment of {app}" in entry.detail


async def test_a_rollback_to_another_projects_deployment_is_refused(world: World) -> None:
    """In an incident channel anyone may roll back web, but not to another project's
    deployment: no confirmation, no rollback sent, and the other project stays as it was."""
    live, previous = _other_project(world)

    answer = await world.ask(f"rollback web {previous}", user="U0DEV", channel=INCIDENT)

    assert f"`{previous}` is not a deployment of web" in answer
    assert "another Nometria project" in answer
    assert "*From*" not in answer  # no confirmation to click
    assert world.nometria.requests_to("POST") == []
    assert world.nometria.live_id("proj_other") == live
    await _refusal_of(world, "rollback", "web", previous)


async def test_the_logs_of_another_projects_deployment_are_not_shown(world: World) -> None:
    """`/deploy logs web <other project's id>` shows nothing of it: its logs are never read."""
    live, _ = _other_project(world)

    answer = await world.ask(f"logs web {live}", user="U0DEV", channel=CHANNEL)

    assert f"`{live}` is not a deployment of web" in answer
    assert world.nometria.requests_to("GET", f"/v1/deployments/{live}/logs") == []
    sha = world.nometria.deployments[live]["commit_sha"]
    shown = [e.all_text for e in world.slack.ephemerals]
    shown += [m.all_text for m in world.slack.root_messages(CHANNEL)]
    assert not any(sha in text or "Pulling" in text for text in shown)
    await _refusal_of(world, "logs", "web", live)


@pytest.mark.parametrize("verb", ["publish", "stop", "restart", "logs", "rollback"])
async def test_another_stormkit_environments_deployment_is_refused(world: World, verb: str) -> None:
    """An ID of another environment of the Stormkit app: refused before any POST about it."""
    world.stormkit.seed_history(n=2)
    world.stormkit.add_env("306")
    other = world.stormkit.seed_history(n=2, env="306")[1]
    failed = world.stormkit.deployments[other]
    failed["fails"] = verb == "restart"  # what a restart would need
    before = world.stormkit.published_id("306")

    answer = await world.ask(f"{verb} docs {other}", user="U0LEAD", channel=CHANNEL)

    assert f"`{other}` is not a deployment of docs" in answer
    assert [r for r in world.stormkit.requests if r.method != "GET"] == []
    assert world.stormkit.published_id("306") == before
    await _refusal_of(world, verb, "docs", other)
