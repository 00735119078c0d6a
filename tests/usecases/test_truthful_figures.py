"""History and the DORA figures count what happened, when it happened: a rollback is dated by
when it was asked and timed by what it took; a restart keeps the failure it followed in
`/deploy stats` and /metrics. Driven as Slack drives them, on a clock the test moves."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import World, eventually

CHANNEL = "C0DEPLOYS"


@pytest.fixture
def fakes_start() -> float:
    """The providers' clock starts at the bot's, so that ages read the same on both."""
    return time.time()


def _line(told: str, *words: str) -> str:
    [line] = [line for line in told.splitlines() if all(w in line for w in words)]
    return line


async def _metrics(world: World) -> dict[tuple[str, str | None], float]:
    text = (await world.http.get(world.metrics_url + "/metrics")).text
    return {
        (s.name, s.labels.get("app")): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


async def _until(world: World, root: str, words: str) -> None:
    for _ in range(10):
        if words in world.last_reply(CHANNEL, root):
            return
        await world.tick()
    raise AssertionError(f"{words!r} never said: {world.slack.texts_in_thread(CHANNEL, root)}")


@pytest.mark.parametrize("stormkit_flavour", ["server"])  # a publish warms up before it is live
async def test_a_rollback_is_dated_when_asked_and_timed_by_what_it_took(world: World) -> None:
    """Its target keeps its own line and age; the rollback is a line of its own."""
    world.wall.stop()
    live, older = world.stormkit.seed_history(n=2)
    before = len(world.slack.ephemerals)
    await world.driver.command("rollback docs", user="U0LEAD", channel=CHANNEL)
    [confirm] = await eventually(lambda: world.slack.ephemerals[before:])
    await world.confirm_rollback(confirm.ts, user="U0LEAD", channel=CHANNEL)
    [root] = await eventually(lambda: world.slack.root_messages(CHANNEL))
    await eventually(lambda: "is deploying" in world.last_reply(CHANNEL, root.ts))
    world.wall.offset += timedelta(seconds=7)  # its warm-up takes 7 s on the bot's clock
    await world.live_after_publish(CHANNEL, root.ts)
    world.wall.offset += timedelta(minutes=2)

    told = await world.ask("history docs")

    rollback = _line(told, f"rollback to `{older}`")
    assert "went live" in rollback
    assert "by <@U0LEAD>" in rollback
    assert "2m ago" in rollback
    assert "took 7s" in rollback
    target = _line(told, f"`{older}`", "started outside Slack")
    assert "rollback" not in target
    assert "2h ago" in target  # its own age, that of its build
    assert told.index(rollback) < told.index(_line(told, f"`{live}`"))  # newest first


async def test_a_restart_keeps_the_failure_it_followed(world: World) -> None:
    """Failed, then restarted and live: one failure of two changes, restored in 1m, in
    `/deploy stats` and /metrics alike; history shows both runs, each when it happened."""
    world.wall.stop()
    world.stormkit.fail_next()
    await world.driver.command("docs", channel=CHANNEL)
    [root] = await eventually(lambda: world.slack.root_messages(CHANNEL))
    await _until(world, root.ts, "failed")
    [dep] = list(world.stormkit.deployments)
    down = await world.ask("stats docs")
    assert "100% (1 of 1)" in down
    assert "not restored yet since the last failure" in down

    world.wall.offset += timedelta(seconds=40)
    await world.driver.command(f"restart docs {dep}", channel=CHANNEL)
    await eventually(lambda: "Restarted by <@U0DEV>" in world.last_reply(CHANNEL, root.ts))
    world.wall.offset += timedelta(seconds=20)
    await _until(world, root.ts, "docs is live")

    told = await world.ask("stats docs")
    assert "50% (1 of 2)" in told
    assert "1m (median of 1)" in told
    assert "1 in 30 days" in told  # one deployment went live, not two
    samples = await _metrics(world)
    assert samples[("deploybot_dora_change_failure_ratio", "docs")] == 0.5
    assert samples[("deploybot_dora_time_to_restore_seconds", "docs")] == 60
    assert samples[("deploybot_dora_deployments_per_day", "docs")] == 1 / 30

    world.wall.offset += timedelta(minutes=5)
    history = await world.ask("history docs")
    rerun = _line(history, f"restart of `{dep}`")
    assert "· live ·" in rerun
    assert "5m ago" in rerun  # when it was restarted, not when it was first asked
    failed = _line(history, f"`{dep}`", "failed")
    assert "by <@U0DEV>" in failed
    assert "6m ago" in failed
    assert history.index(rerun) < history.index(failed)
