"""`/deploy` reaches live or failed in its thread, on both providers, over real HTTP."""

from __future__ import annotations

import pytest

from bot.models import Status
from tests.conftest import STORMKIT_FLAVOURS, World, eventually

CHANNEL = "C0DEPLOYS"


@pytest.fixture(params=STORMKIT_FLAVOURS)
def stormkit_flavour(request: pytest.FixtureRequest) -> str:
    """Every test here runs against the seed's Stormkit and against its server of today."""
    return str(request.param)


async def started(world: World, text: str, *, user: str = "U0DEV") -> str:
    """Send the slash command and return the root message's ts once the deployment is tracked."""
    response = await world.driver.command(text, user=user, channel=CHANNEL)
    assert response.status_code == 200
    assert response.text == ""  # acknowledged with nothing to say: the root message says it
    await eventually(lambda: any("Started" in t for t in _all_thread_texts(world)))
    roots = world.slack.root_messages(CHANNEL)
    assert len(roots) == 1
    return roots[0].ts


def _all_thread_texts(world: World) -> list[str]:
    return [
        text
        for root in world.slack.root_messages(CHANNEL)
        for text in world.slack.texts_in_thread(CHANNEL, root.ts)
    ]


def _root_text(world: World, ts: str) -> str:
    message = world.slack.message(CHANNEL, ts)
    assert message is not None
    return message.text


async def test_nometria_deploy_reaches_live_in_its_thread(world: World) -> None:
    """Each change of status updates the root and adds one reply; the last says live."""
    ts = await started(world, "web")

    [trigger] = world.nometria.requests_to("POST", "/v1/deployments")
    assert trigger.json == {"project_id": "proj_abc123"}
    assert trigger.headers["Authorization"] == "Bearer nm-test-key"
    assert "queued" in _root_text(world, ts)

    for expected in ("building", "deploying"):
        await world.tick()
        assert expected in world.slack.texts_in_thread(CHANNEL, ts)[-1]
        assert expected in _root_text(world, ts)
    await world.tick()

    replies = world.slack.texts_in_thread(CHANNEL, ts)
    assert len(replies) == 4  # started (queued), building, deploying, live
    assert "is live" in replies[-1]
    assert "https://proj_abc123.nometria.app" in replies[-1]
    assert "Built in 2s" in replies[-1]
    assert "live" in _root_text(world, ts)
    assert await world.runtime.store.in_flight() == []

    polls_before = len(world.nometria.requests)
    await world.tick()
    assert len(world.nometria.requests) == polls_before  # nothing left in flight: no requests
    assert len(world.slack.texts_in_thread(CHANNEL, ts)) == 4


async def test_stormkit_branch_deploy_reaches_live(world: World) -> None:
    """`/deploy docs release/2.0` builds that branch, is polled through /poll, and goes live."""
    ts = await started(world, "docs release/2.0")

    [deploy] = world.stormkit.requests_to("POST", "/v1/deploy")
    assert deploy.json == {"branch": "release/2.0", "publish": True, "envId": "305"}
    assert deploy.headers["Authorization"] == "sk-env-key"

    await world.tick()
    assert "building" in world.slack.texts_in_thread(CHANNEL, ts)[-1]
    await world.tick(2)
    if world.stormkit.flavour == "server":  # warming up: traffic has not moved yet
        assert "*docs* is deploying" in world.last_reply(CHANNEL, ts)
        assert world.lives(CHANNEL, ts) == 0
        await world.tick()

    replies = world.slack.texts_in_thread(CHANNEL, ts)
    assert "docs is live" in replies[-1]
    assert world.lives(CHANNEL, ts) == 1
    polls = world.stormkit.requests_to("GET", "/v1/deployments/")
    assert any(r.path.endswith("/poll") for r in polls)
    assert not any(r.query.get("logs") == "true" for r in polls)  # logs only on failure
    assert world.stormkit.published_id() is not None
    assert "release/2.0" in _root_text(world, ts)


async def test_nometria_failure_posts_its_error_log_lines(world: World) -> None:
    """A failed build ends its thread with the failing lines in a code block, secrets masked."""
    ts = await started(world, "web bad1234")
    for _ in range(3):
        await world.tick()

    last = world.slack.thread(CHANNEL, ts)[-1]
    text = world.slack.texts_in_thread(CHANNEL, ts)[-1]
    assert "web failed" in text
    assert "```" in str(last.blocks)
    assert "Cannot find module" in text
    assert "sk_live_abc123" not in str(last.blocks)
    assert "STRIPE_SECRET_KEY=•••" in text
    assert world.nometria.requests_to("GET", "/v1/deployments/")[-1].path.endswith("/logs")
    assert Status.FAILED.label in _root_text(world, ts)


async def test_stormkit_failure_reads_logs_once_it_failed(world: World) -> None:
    """Stormkit's logs are fetched with ?logs=true only after the build failed."""
    ts = await started(world, "docs broken-build")
    await world.tick()
    assert not any(r.query.get("logs") for r in world.stormkit.requests)
    await world.tick(2)

    text = world.slack.texts_in_thread(CHANNEL, ts)[-1]
    assert "docs failed" in text
    assert "exit code 1" in text
    assert "abcd1234secret" not in text
    with_logs = [r for r in world.stormkit.requests if r.query.get("logs") == "true"]
    assert len(with_logs) == 1


async def test_trigger_refused_by_provider_is_explained_in_the_thread(world: World) -> None:
    """Stormkit 402: the thread says build minutes are exhausted; nothing is tracked."""
    world.stormkit.minutes_exhausted = True
    await world.driver.command("docs", channel=CHANNEL)
    root = (await eventually(lambda: world.slack.root_messages(CHANNEL)))[0]
    texts = await eventually(lambda: world.slack.texts_in_thread(CHANNEL, root.ts))
    assert "build minutes are exhausted" in texts[-1]
    await eventually(lambda: "failed" in _root_text(world, root.ts))  # edited after the reply
    assert await world.runtime.store.in_flight() == []


async def test_stormkit_status_reads_what_went_live(world: World) -> None:
    """`/deploy status docs` reads Stormkit's list on either server: the new build is live."""
    world.stormkit.seed_history(n=2)
    ts = await started(world, "docs")
    await world.tick(3 + world.stormkit.publish_gap + world.stormkit.warmup)
    assert world.lives(CHANNEL, ts) == 1
    [new] = [d for d in world.stormkit.deployments if d == world.stormkit.published_id()]
    told = await world.ask("status docs")
    assert new in told
    assert "live" in told
    assert "unexpected shape" not in told


async def test_stormkit_failed_warm_up_ends_the_thread_as_failed(world: World) -> None:
    """Today's server: a warm-up that ends unpublished is a failure, said with what it means."""
    if world.stormkit.flavour == "seed":
        pytest.skip("the seed's Stormkit publishes at once: there is no warm-up to fail")
    world.stormkit.fail_warmup_next()
    ts = await started(world, "docs")
    await world.tick(3)
    assert "*docs* is deploying" in world.last_reply(CHANNEL, ts)  # warming up
    await world.tick(60)  # the warm-up has ended, and Stormkit never published it

    text = world.last_reply(CHANNEL, ts)
    assert "docs failed" in text
    assert "did not publish it" in text
    assert "still serves the deployment that was live before" in text
    assert world.lives(CHANNEL, ts) == 0
    assert Status.FAILED.label in _root_text(world, ts)
    assert await world.runtime.store.in_flight() == []


async def test_stormkit_status_check_failure_quotes_its_lines(world: World) -> None:
    """A build whose status check fails ends failed, quoting the check's own lines."""
    world.stormkit.fail_status_checks_next()
    ts = await started(world, "docs")
    await world.tick(2)
    assert "building" in world.last_reply(CHANNEL, ts)  # the check runs: still running
    await world.tick()

    text = world.last_reply(CHANNEL, ts)
    assert "docs failed" in text
    assert "a status check failed" in text
    assert "status check: curl -fsS https://my-app.stormkit.dev/health" in text
    assert "returned error: 503" in text
    assert world.stormkit.published_id() is None
    assert await world.runtime.store.in_flight() == []
