"""GET /metrics: Prometheus text with deployments, in-flight, tick time and errors."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import World, eventually

CHANNEL = "C0DEPLOYS"


async def _scrape(world: World) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = await world.http.get(world.metrics_url + "/metrics")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/plain")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


async def test_metrics_count_what_happened(world: World) -> None:
    before = await _scrape(world)
    live = ("deploybot_deployments_total", (("outcome", "live"), ("provider", "nometria")))
    errors = ("deploybot_provider_errors_total", (("provider", "nometria"), ("status", "503")))
    slack = (
        "deploybot_slack_api_errors_total",
        (("error", "not_in_channel"), ("method", "chat.postMessage")),
    )

    await world.driver.command("web", channel=CHANNEL)
    root = (await eventually(lambda: world.slack.root_messages(CHANNEL)))[0].ts
    await eventually(lambda: "Started" in world.last_reply(CHANNEL, root))
    world.nometria.inject(503, times=1, path_contains="/v1/deployments/")
    await world.tick()
    in_flight = (await _scrape(world))[("deploybot_in_flight_deployments", ())]
    assert in_flight == 1
    for _ in range(3):
        await world.tick()
    world.slack.not_in_channels.add("C0ELSEWHERE")
    await world.ask("web", channel="C0ELSEWHERE")

    after = await _scrape(world)
    assert after[live] - before.get(live, 0) == 1
    assert after[errors] - before.get(errors, 0) == 1
    assert after[slack] - before.get(slack, 0) == 1
    assert after[("deploybot_poll_tick_seconds_count", ())] >= 4
    assert after[("deploybot_in_flight_deployments", ())] == 0


async def test_metrics_show_the_deployments_and_channels_this_replica_holds(world: World) -> None:
    """A building deployment is held after a tick; a channel while its posts go out."""
    held = ("deploybot_held_channels", ())
    await world.driver.command("web", channel=CHANNEL)
    root = (await eventually(lambda: world.slack.root_messages(CHANNEL)))[0].ts
    await eventually(lambda: "Started" in world.last_reply(CHANNEL, root))
    await world.runtime.outbox.idle()
    assert (await _scrape(world))[held] == 0
    world.slack.delay("chat.postMessage", seconds=30, times=1)  # the next reply hangs
    world.clock.advance(1)
    await world.runtime.jobs.poller.poll_once()  # the build started: its reply goes, and hangs
    await eventually(lambda: "is building" in world.last_reply(CHANNEL, root))
    assert (await _scrape(world))[held] == 1
    world.slack.release()
    await world.runtime.outbox.idle()
    assert (await _scrape(world))[held] == 0
    assert (await _scrape(world))[("deploybot_in_flight_deployments", ())] == 1
    await world.runtime.stop()  # a graceful stop hands everything over
    assert (await _scrape(world))[("deploybot_in_flight_deployments", ())] == 0
