"""`/deploy history` and `/deploy stats`, and the same DORA figures in /metrics, over real HTTP."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import World, eventually

CHANNEL = "C0DEPLOYS"


async def _deployed(world: World, text: str) -> str:
    """Deploy through a slash command and poll until its thread ends; the deployment's id."""
    before = len(world.slack.root_messages(CHANNEL))
    response = await world.driver.command(text, channel=CHANNEL)
    assert response.status_code == 200
    roots = await eventually(lambda: world.slack.root_messages(CHANNEL)[before:])
    root = roots[0].ts
    await eventually(lambda: "Started" in world.last_reply(CHANNEL, root))
    for _ in range(4):
        await world.tick()
    last = world.last_reply(CHANNEL, root)
    assert "is live" in last or "failed" in last
    [row] = [r for r in await world.runtime.store.of_app("web") if r.root_ts == root]
    assert row.deployment_id is not None
    return row.deployment_id


async def test_history_merges_the_bots_deployments_with_the_providers(world: World) -> None:
    """Who asked comes from the bot; deployments made elsewhere are listed as such."""
    elsewhere = world.nometria.seed_history("proj_abc123", n=2)
    live = await _deployed(world, "web")
    failed = await _deployed(world, "web bad1234")

    told = await world.ask("history web")

    lines = told.splitlines()
    [failed_line] = [line for line in lines if failed in line]
    assert "`bad1234`" in failed_line
    assert "failed" in failed_line
    assert "by <@U0DEV>" in failed_line
    [live_line] = [line for line in lines if live in line]
    assert "live" in live_line
    assert "took " in live_line
    for seeded in elsewhere:
        [line] = [line for line in lines if seeded in line]
        assert "started outside Slack" in line
    assert lines.index(failed_line) < lines.index(live_line)  # newest first


async def test_stats_say_the_four_figures_and_metrics_carry_them(world: World) -> None:
    """Two live and one failure in between: frequency, failure rate, restore, build time."""
    await _deployed(world, "web")
    await _deployed(world, "web bad1234")
    still_down = await world.ask("stats web")
    assert "not restored yet since the last failure" in still_down
    await _deployed(world, "web")

    told = await world.ask("stats web")

    assert "*web* over the last 30 days" in told
    assert "0.5 a week (2 in 30 days)" in told
    assert "33% (1 of 3)" in told
    assert "(median of 1)" in told
    assert "no build times reported" not in told
    week = await world.ask("stats web 7")
    assert "over the last 7 days" in week
    assert "2 a week (2 in 7 days)" in week

    reads = world.nometria.requests_to("GET")
    samples = {
        (s.name, s.labels.get("app")): s.value
        for family in text_string_to_metric_families(
            (await world.http.get(world.metrics_url + "/metrics")).text
        )
        for s in family.samples
    }
    assert samples[("deploybot_dora_deployments_per_day", "web")] == 2 / 30
    assert samples[("deploybot_dora_change_failure_ratio", "web")] == 1 / 3
    assert samples[("deploybot_dora_time_to_restore_seconds", "web")] > 0
    assert ("deploybot_dora_build_seconds", "web") not in samples  # only the provider knows
    assert world.nometria.requests_to("GET") == reads  # a scrape reads nothing from a provider


async def test_stats_of_an_app_never_deployed_says_so(world: World) -> None:
    told = await world.ask("stats docs 1")
    assert "No deployments of *docs* in the last day." in told


async def test_bad_days_are_refused_with_the_usage(world: World) -> None:
    """Nothing is asked of the provider for a count of days that is not one."""
    for days in ("0", "abc", "366", "-3"):
        told = await world.ask(f"stats web {days}")
        assert f"Give the days as a whole number from 1 to 365; `{days}` is not one." in told
        assert "/deploy stats <app> [days]" in told
    assert world.nometria.requests_to("GET") == []
