"""Deployments started outside Slack (CI on Nometria, a push on Stormkit) are announced in their
app's `announce` channel, once, and followed there like the bot's own; history is not."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest

from bot import config as configuration
from bot.config.settings import Settings
from bot.runtime import Runtime
from tests.conftest import ENVIRON, NOMETRIA_KEY, STORMKIT_FLAVOURS, World, eventually

ANNOUNCE = "C0ANNOUNCE"
INTERVAL = 60.0  # the watch job's; tests look by hand, moving the bot's clock on


@pytest.fixture(params=STORMKIT_FLAVOURS)
def stormkit_flavour(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def apps_extra() -> str:
    return f"""
[apps.site]
provider = "nometria"
project_id = "proj_site"
approvers = ["U0LEAD"]
announce = "{ANNOUNCE}"
repo = "https://github.com/acme/site"

[apps.pages]
provider = "stormkit"
env_id = "305"
default_branch = "main"
approvers = ["U0LEAD"]
announce = "{ANNOUNCE}"
repo = "https://gitlab.com/acme/pages"
"""


@pytest.fixture
def settings_extra() -> dict[str, Any]:
    return {"deploybot_watch_interval": INTERVAL}


async def look(world: World, runtime: Runtime | None = None) -> None:
    """An interval passes and the watch job runs, as the scheduler would run it."""
    runtime = runtime or world.runtime
    world.wall.offset += timedelta(seconds=INTERVAL)
    await runtime.jobs.watcher.look_once()
    await runtime.outbox.idle()


async def ci_deploys(world: World, project_id: str = "proj_site") -> str:
    """A CI job triggers a deployment through Nometria's API, as its docs show."""
    async with httpx.AsyncClient() as ci:
        response = await ci.post(
            f"{world.runtime.config.base_url('nometria')}/v1/deployments",
            headers={"Authorization": f"Bearer {NOMETRIA_KEY}"},
            json={"project_id": project_id},
        )
    assert response.status_code == 201
    return str(response.json()["data"]["id"])


def announced(world: World) -> list[str]:
    return [root.all_text for root in world.slack.root_messages(ANNOUNCE)]


def thread_of(world: World, deployment_id: str) -> tuple[str, list[str]]:
    [root] = [r for r in world.slack.root_messages(ANNOUNCE) if deployment_id in r.all_text]
    return root.ts, world.slack.texts_in_thread(ANNOUNCE, root.ts)


async def test_a_ci_deployment_on_nometria_is_announced_once_and_followed_to_live(
    world: World,
) -> None:
    """CI's deployment: one root in the announce channel, its commit, and a thread to live."""
    world.nometria.seed_history("proj_site", n=3)
    await look(world)
    assert announced(world) == []  # what was there before the bot looked is history

    deployment_id = await ci_deploys(world)
    await look(world)
    ts, replies = thread_of(world, deployment_id)
    assert "started outside Slack" in replies[0]
    assert "`a1b2c3d`" in replies[0]
    assert "feat: add payment flow" in replies[0]
    root = world.slack.message(ANNOUNCE, ts)
    assert root is not None
    assert "outside Slack" in root.all_text

    for _ in range(3):
        await world.tick()
        await look(world)
    replies = world.slack.texts_in_thread(ANNOUNCE, ts)
    assert "site is live" in replies[-1]
    assert "https://proj_site.nometria.app" in replies[-1]
    assert "Built in 2s" in replies[-1]
    assert world.lives(ANNOUNCE, ts) == 1
    assert len(world.slack.root_messages(ANNOUNCE)) == 1
    assert await world.runtime.store.in_flight() == []


async def test_a_push_on_stormkit_is_announced_once_and_followed_to_live(world: World) -> None:
    """A push builds and publishes by itself: announced once, with its commit, and live."""
    world.stormkit.seed_history(n=2)
    world.stormkit.set_auto_publish(True)
    await look(world)
    assert announced(world) == []

    deployment_id = world.stormkit.push()
    await look(world)
    ts, replies = thread_of(world, deployment_id)
    assert "started outside Slack" in replies[0]
    sha = world.stormkit.deployments[deployment_id]["sha"]
    assert f"`{sha[:7]}`" in replies[0]  # a push names its commit from the start

    for _ in range(5):
        await world.tick()
        await look(world)
    assert world.stormkit.published_id() == deployment_id
    assert "pages is live" in world.last_reply(ANNOUNCE, ts)
    assert world.lives(ANNOUNCE, ts) == 1
    assert len(world.slack.root_messages(ANNOUNCE)) == 1


async def test_a_first_look_announces_what_is_in_flight_and_not_history(world: World) -> None:
    """Started watching with one deployment building: that one is announced, the rest not."""
    old = world.nometria.seed_history("proj_site", n=3)
    world.nometria.fail_next()
    building = await ci_deploys(world)
    await look(world)

    [text] = announced(world)
    assert building in text
    assert not any(o in text for o in old)
    await world.tick(2)
    _ts, replies = thread_of(world, building)
    assert "site failed" in replies[-1]
    assert "Cannot find module" in replies[-1]  # the log excerpt, as for the bot's own
    assert [c for c in world.slack.messages if c.startswith("D")] == []  # nobody to tell


async def test_the_bots_own_deploy_is_announced_once_in_its_own_channel(world: World) -> None:
    """`/deploy site`: its root where it was asked, and nothing in the announce channel."""
    world.nometria.seed_history("proj_site", n=1)
    await look(world)
    await world.driver.command("site", channel="C0DEPLOYS")
    await eventually(lambda: world.nometria.requests_to("POST", "/v1/deployments"))
    await eventually(world.runtime.store.in_flight)
    for _ in range(4):
        await look(world)
        await world.tick()
    assert announced(world) == []
    assert len(world.slack.root_messages("C0DEPLOYS")) == 1


async def test_a_look_while_the_bot_triggers_does_not_take_its_deploy_for_an_outside_one(
    world: World,
) -> None:
    """The watcher looks after Nometria created the bot's deployment and before its answer
    reached the bot: that deployment is still not announced, then or later."""
    world.nometria.seed_history("proj_site", n=1)
    await look(world)
    looked: list[int] = []

    async def look_meanwhile() -> None:
        world.wall.offset += timedelta(seconds=INTERVAL)
        looked.append(await world.runtime.jobs.watcher.look_once())

    world.nometria.before_answer = look_meanwhile
    await world.driver.command("site", channel="C0DEPLOYS")
    await eventually(world.runtime.store.in_flight)
    world.nometria.before_answer = None
    assert looked == [2]  # it did look (at both apps), in between
    for _ in range(3):
        await look(world)
        await world.tick()
    assert announced(world) == []


async def test_a_restart_announces_nothing_again(world: World) -> None:
    """Another process on the same store (a restart, a replica) finds everything seen."""
    world.nometria.seed_history("proj_site", n=2)
    await look(world)
    first = await ci_deploys(world)
    await look(world)
    assert len(announced(world)) == 1

    again = await Runtime.start(world.runtime.config, clock=world.wall)
    try:
        await look(world, again)
        await look(world, again)
        assert len(announced(world)) == 1
        second = await ci_deploys(world)
        await look(world, again)
        await look(world)
        texts = announced(world)
        assert len(texts) == 2
        assert sum(first in t for t in texts) == 1
        assert sum(second in t for t in texts) == 1
    finally:
        await again.stop()


async def test_announce_added_later_announces_only_what_is_in_flight(world: World) -> None:
    """An app that starts announcing (a restart with `announce` added) takes what finished
    before for history, even if the store saw the app watched long ago."""
    world.nometria.seed_history("proj_site", n=1)
    await look(world)
    config = world.runtime.config
    quiet = {
        name: app.model_copy(update={"announce": None}) if name == "site" else app
        for name, app in config.apps.items()
    }
    unwatched = await Runtime.start(config.model_copy(update={"apps": quiet}), clock=world.wall)
    await unwatched.stop()  # a process without `announce` forgot the app
    finished = await ci_deploys(world)
    world.clock.advance(5)
    building = await ci_deploys(world)

    again = await Runtime.start(config, clock=world.wall)
    try:
        await look(world, again)
    finally:
        await again.stop()
    [text] = announced(world)
    assert building in text
    assert finished not in text


def test_announce_and_repo_are_checked_in_the_apps_file(tmp_path: Any) -> None:
    """A channel name or a repository URL the bot cannot link is refused with the key."""
    path = tmp_path / "deploybot.toml"
    path.write_text(
        '[apps.web]\nprovider = "nometria"\nproject_id = "p"\nannounce = "#deploys"\n'
        'repo = "https://example.com/acme/web"\n',
        encoding="utf-8",
    )
    settings = Settings(deploybot_config=path)
    with pytest.raises(configuration.ConfigError) as caught:
        configuration.load(settings, environ=ENVIRON)
    said = str(caught.value)
    assert "apps.web.announce" in said
    assert "not a Slack channel ID" in said
    assert "apps.web.repo" in said
    assert "not on GitHub, GitLab or Bitbucket" in said


async def test_an_outside_deployment_shows_in_status_history_and_home(world: World) -> None:
    """Followed like the bot's own: in flight on the Home tab, then live in status and
    history, never as a person's; and it can be rolled back as usual."""
    world.nometria.seed_history("proj_site", n=2)
    await look(world)
    deployment_id = await ci_deploys(world)
    await look(world)

    await world.driver.home_opened("U0LEAD")
    home = await eventually(
        lambda: deployment_id in world.slack.home_text("U0LEAD") and world.slack.home_text("U0LEAD")
    )
    assert "started outside Slack" in home
    assert "<@outside>" not in home

    for _ in range(3):
        await world.tick()
    status = await world.ask("status site")
    assert deployment_id in status
    assert "started outside Slack" in status
    history = await world.ask("history site")
    assert deployment_id in history
    assert "<@outside>" not in history + status
    assert "by started" not in home + status + history  # one phrase, said as a phrase

    before = len(world.slack.root_messages("C0INCIDENT"))
    asked = len(world.slack.ephemerals)
    await world.driver.command("rollback site", channel="C0INCIDENT")  # anyone, in an incident
    [shown] = await eventually(lambda: world.slack.ephemerals[asked:])
    assert deployment_id in shown.all_text
    await world.confirm_rollback(shown.ts, user="U0DEV", channel="C0INCIDENT")
    [root] = await eventually(lambda: world.slack.root_messages("C0INCIDENT")[before:])
    said = await eventually(lambda: world.slack.texts_in_thread("C0INCIDENT", root.ts))
    assert f"from `{deployment_id}` (started outside Slack)" in said[0]
    assert "<@outside>" not in said[0]


async def test_apps_and_the_home_tab_say_both_keys(world: World) -> None:
    """`/deploy apps` and the Home tab say where outside deployments are announced, and the
    repository compare views are linked in."""
    told = await world.ask("apps")
    assert (
        "*site* (nometria): no approval; approvers <@U0LEAD> (rollbacks, publishing, deploying "
        "through a lock or freeze); deployments started outside Slack announced in "
        f"<#{ANNOUNCE}>; repo <https://github.com/acme/site>" in told
    )
    assert "*web* (nometria): no approval; approvers <@U0LEAD> (rollbacks" in told
    [web] = [line for line in told.splitlines() if "*web*" in line]
    assert "deployments started outside Slack" not in web

    await world.driver.home_opened("U0LEAD")
    home = await eventually(lambda: world.slack.home_text("U0LEAD"))
    assert (
        "*pages* (stormkit) · deployments started outside Slack announced in "
        f"<#{ANNOUNCE}> · repo <https://gitlab.com/acme/pages>" in home
    )


def _lists(world: World) -> tuple[list[Any], list[Any]]:
    nometria = [
        r
        for r in world.nometria.requests_to("GET", "/v1/deployments")
        if r.path == "/v1/deployments" and r.query.get("project_id") == "proj_site"
    ]
    stormkit = [r for r in world.stormkit.requests_to("GET") if r.path == "/v1/deployments"]
    return nometria, stormkit


async def test_a_look_is_one_small_list_request_per_app_whichever_replica_looks(
    world: World,
) -> None:
    """Nometria's list with limit=10, Stormkit's first page; a second replica looking in the
    same interval sends nothing."""
    world.nometria.seed_history("proj_site", n=12)
    await look(world)
    nometria, stormkit = _lists(world)
    assert [r.query.get("limit") for r in nometria] == ["10"]
    assert [r.query.get("from") for r in stormkit] == [None]

    replica = await Runtime.start(world.runtime.config, clock=world.wall)
    try:
        assert await replica.jobs.watcher.look_once() == 0  # looked at already this interval
        await look(world, replica)
    finally:
        await replica.stop()
    assert [len(found) for found in _lists(world)] == [2, 2]


async def test_after_a_long_gap_what_finished_meanwhile_is_history(world: World) -> None:
    """Not looked at for more than three intervals (the bot was down): a deployment that went
    live meanwhile is not announced; one still building is."""
    world.nometria.seed_history("proj_site", n=1)
    await look(world)
    finished = await ci_deploys(world)
    world.clock.advance(5)  # it went live while nobody looked
    building = await ci_deploys(world)
    world.wall.offset += timedelta(seconds=3 * INTERVAL)
    await look(world)
    [text] = announced(world)
    assert building in text
    assert finished not in text


async def test_a_deployment_that_ended_between_two_looks_is_announced_with_its_end(
    world: World,
) -> None:
    """Started and failed within one interval: announced once, the failure and its excerpt
    in its thread."""
    world.nometria.seed_history("proj_site", n=1)
    await look(world)
    world.nometria.fail_next()
    failed = await ci_deploys(world)
    world.clock.advance(5)
    await look(world)
    _ts, replies = thread_of(world, failed)
    assert "started outside Slack" in replies[0]
    assert "site failed" in replies[-1]
    assert "Cannot find module" in replies[-1]
    await look(world)
    assert len(announced(world)) == 1


async def test_a_start_cut_short_is_adopted_by_its_thread_not_announced(world: World) -> None:
    """The bot triggered and never heard back (a crash, a lost answer): its start holds the app
    until the poller adopts what it triggered; the watcher never takes that for an outside one."""
    world.nometria.seed_history("proj_site", n=1)
    await look(world)
    started = await world.runtime.store.slots.take(
        app="site",
        provider="nometria",
        channel="C0DEPLOYS",
        root_ts="",
        requester="U0DEV",
        ref=None,
    )
    assert started is not None
    lost = await ci_deploys(world)  # what that start triggered: its answer never came
    await look(world)
    assert announced(world) == []

    # The poller adopts it once the start's lease ran out (bot/usecases/recover.py; the fakes'
    # clock is not the bot's here, so the adoption is made as recover makes it).
    assert await world.runtime.store.slots.adopt(
        started.id, deployment_id=lost, also=lambda _: None
    )
    await look(world)
    await look(world)
    assert announced(world) == []
