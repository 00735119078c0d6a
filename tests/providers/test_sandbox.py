"""The sandbox provider beyond the contract: what a person trying the bot sees of it."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from bot import config as configuration
from bot.config import ConfigError
from bot.config.settings import Settings
from bot.models import Deployment, Status
from bot.providers import REGISTRY, build_all, sandbox_step
from bot.providers.base import NotFound, Rejected
from bot.providers.owned import Owned
from bot.providers.sandbox import BUILD_ERROR, Sandbox
from bot.redact import MASK, Redactor
from bot.render.excerpt import log_block
from tests.fakes.clock import ManualClock

STEP = 2.0


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def box(clock: ManualClock) -> Sandbox:
    return Sandbox("web", clock=clock.now, step=STEP)


async def follow(box: Sandbox, clock: ManualClock, deployment: Deployment) -> list[Status]:
    """Poll once a step until it finishes; the statuses seen, the first at the trigger."""
    seen = [deployment.status]
    while not deployment.status.finished:
        clock.advance(STEP)
        deployment = await box.poll(deployment.id)
        seen.append(deployment.status)
    return seen


async def test_it_starts_with_a_history_to_show(box: Sandbox) -> None:
    """From the first second: three deployments, hours old, the newest live, the others not."""
    history = await box.history()
    assert [d.status for d in history] == [Status.LIVE, Status.ROLLED_BACK, Status.ROLLED_BACK]
    now = datetime.now(UTC)
    for deployment in history:
        assert deployment.created_at is not None
        assert deployment.created_at < now - timedelta(minutes=30)
        assert deployment.finished_at is not None
        assert deployment.commit_sha is not None
        assert re.fullmatch("[0-9a-f]{7,40}", deployment.commit_sha)  # a commit SHA
        assert deployment.commit_message
    assert len({d.commit_message for d in history}) == 3
    assert history[0].url == "https://web.sandbox.deploybot.dev"
    assert history[1].url != history[0].url
    assert Sandbox("web", seed_history=0).live_id() is None


async def test_builds_take_one_or_two_steps(box: Sandbox, clock: ManualClock) -> None:
    """Every other build is slower, and its build time says so."""
    first = await box.trigger(ref=None, env_vars={}, publish=True)
    seen = await follow(box, clock, first)
    second = await box.trigger(ref=None, env_vars={}, publish=True)
    seen_second = await follow(box, clock, second)
    slow, fast = sorted([seen, seen_second], key=len, reverse=True)
    live = Status.QUEUED, Status.BUILDING, Status.DEPLOYING, Status.LIVE
    assert fast == list(live)
    assert slow == [Status.QUEUED, Status.BUILDING, *live[1:]]
    seconds = {(await box.get(d.id)).build_seconds for d in (first, second)}
    assert seconds == {4, 6}


async def test_a_new_live_deployment_rolls_the_previous_one_back(
    box: Sandbox, clock: ManualClock
) -> None:
    """Only one deployment is live at a time."""
    before = box.live_id()
    new = await box.trigger(ref="main", env_vars={}, publish=True)
    await follow(box, clock, new)
    assert box.live_id() == new.id
    assert (await box.get(before or "")).status is Status.ROLLED_BACK
    assert [d.status for d in await box.history()].count(Status.LIVE) == 1


async def test_a_broken_ref_fails_with_a_log_whose_secret_is_masked(
    box: Sandbox, clock: ManualClock
) -> None:
    """A ref starting with `broken` fails; its failing lines hold the error and a secret."""
    created = await box.trigger(ref="broken-payments", env_vars={}, publish=True)
    assert (await follow(box, clock, created))[-1] is Status.FAILED
    failed = await box.get(created.id)
    assert failed.error == BUILD_ERROR
    lines = await box.logs(created.id)
    failing = [line.message for line in lines if line.failed]
    assert any(BUILD_ERROR in text for text in failing)
    assert any("DATABASE_PASSWORD=hunter2" in text for text in failing)
    assert len(lines) > len(failing) >= 3
    shown = log_block(lines, redact=Redactor()) or ""
    assert "hunter2" not in shown
    assert f"DATABASE_PASSWORD={MASK}" in shown
    assert BUILD_ERROR in shown


@pytest.mark.parametrize("ref", ["broken", "fail-fast", "FAILING"])
async def test_refs_named_to_fail_fail(box: Sandbox, clock: ManualClock, ref: str) -> None:
    """`broken...` and `fail...` refs fail their build, whatever the case."""
    created = await box.trigger(ref=ref, env_vars={}, publish=True)
    assert (await follow(box, clock, created))[-1] is Status.FAILED


async def test_logs_grow_with_the_clock_and_show_the_overrides(
    box: Sandbox, clock: ManualClock
) -> None:
    """Logs are printed as the build goes, starting with the variable overrides."""
    created = await box.trigger(ref=None, env_vars={"FEATURE": "on"}, publish=True)
    early = await box.logs(created.id)
    assert "env overrides: FEATURE=on" in [line.message for line in early]
    await follow(box, clock, created)
    late = await box.logs(created.id)
    assert len(late) > len(early)
    assert late[-1].message == "Deployment live at https://web.sandbox.deploybot.dev"
    assert not any(line.failed for line in late)


async def test_a_sha_ref_is_the_commit_and_history_filters_by_ref(box: Sandbox) -> None:
    """A hex ref is the commit deployed; history finds it by branch or SHA prefix."""
    by_sha = await box.trigger(ref="abc1234def", env_vars={}, publish=True)
    by_branch = await box.trigger(ref="feature/login", env_vars={}, publish=True)
    assert by_sha.commit_sha == "abc1234def"
    assert [d.id for d in await box.history(ref="abc123")] == [by_sha.id]
    assert [d.id for d in await box.history(ref="feature/login")] == [by_branch.id]
    assert len(await box.history(limit=2)) == 2
    assert [d.id for d in await box.history(limit=1)] == [by_branch.id]


async def test_publish_makes_a_ready_build_live(box: Sandbox, clock: ManualClock) -> None:
    """Built without publishing it waits ready, at its preview URL; publishing makes it live."""
    created = await box.trigger(ref=None, env_vars={}, publish=False)
    with pytest.raises(Rejected) as caught:
        await box.publish(created.id)
    assert str(caught.value) == (
        f"deployment {created.id} has no successful build, so it cannot be published (it is queued)"
    )
    seen = await follow(box, clock, created)
    assert seen[-1] is Status.READY
    assert Status.DEPLOYING not in seen  # nothing goes live: it never says "deploying"
    ready = await box.get(created.id)
    assert ready.url is not None
    assert ready.url.endswith(".sandbox.deploybot.dev")
    assert ready.url != box.url
    await box.publish(created.id)
    assert (await box.get(created.id)).url == box.url
    assert box.live_id() == created.id
    with pytest.raises(Rejected, match="it is live"):
        await box.publish(created.id)


async def test_rollback_makes_the_target_live_at_once(box: Sandbox) -> None:
    """A rollback returns its target, live already, and the one it replaced is rolled back."""
    live, previous, _ = [d.id for d in await box.history()]
    back = await box.rollback(previous)
    assert (back.id, back.status) == (previous, Status.LIVE)
    assert (await box.get(live)).status is Status.ROLLED_BACK
    assert any("Published" in line.message for line in await box.logs(previous))


async def test_rollback_to_an_unfinished_deployment_is_rejected(box: Sandbox) -> None:
    """A deployment still building never went live, so production cannot go back to it."""
    queued = await box.trigger(ref=None, env_vars={}, publish=True)
    with pytest.raises(Rejected) as caught:
        await box.rollback(queued.id)
    assert str(caught.value).startswith(
        f"deployment {queued.id} is neither live nor rolled back, "
        "so production cannot go back to it"
    )


async def test_stop_stops_a_running_build_and_leaves_a_finished_one(
    box: Sandbox, clock: ManualClock
) -> None:
    """Stopping a running build ends it stopped, never live; stopping it again does nothing."""
    live_before = box.live_id()
    running = await box.trigger(ref=None, env_vars={}, publish=True)
    clock.advance(STEP)
    await box.stop(running.id)
    clock.advance(10 * STEP)
    stopped = await box.get(running.id)
    assert stopped.status is Status.STOPPED
    assert stopped.finished_at is not None
    assert box.live_id() == live_before
    assert (await box.logs(running.id))[-1].message.startswith("Stopped by hand")
    await box.stop(running.id)
    await box.stop(live_before or "")
    assert (await box.get(live_before or "")).status is Status.LIVE


async def test_restart_runs_a_failed_build_again(box: Sandbox, clock: ManualClock) -> None:
    """Only a failed deployment restarts; it runs again from now, and a broken ref fails again;
    a build stopped by hand restarts and goes live."""
    live = box.live_id() or ""
    with pytest.raises(Rejected) as caught:
        await box.restart(live)
    assert str(caught.value) == (
        f"deployment {live} is live: only a failed or stopped deployment can be restarted"
    )
    created = await box.trigger(ref="broken", env_vars={}, publish=True)
    await follow(box, clock, created)
    await box.restart(created.id)
    again = await box.get(created.id)
    assert again.status is Status.QUEUED
    assert (await follow(box, clock, again))[-1] is Status.FAILED
    assert "Restarted by hand: attempt 2" in [line.message for line in await box.logs(again.id)]
    stopped = await box.trigger(ref=None, env_vars={}, publish=True)
    clock.advance(STEP)
    await box.stop(stopped.id)
    await box.restart(stopped.id)
    assert (await follow(box, clock, await box.get(stopped.id)))[-1] is Status.LIVE


async def test_delete_removes_a_deployment_but_not_the_live_one(box: Sandbox) -> None:
    """A deleted deployment is gone; the live one cannot be deleted from under production."""
    live, older, _ = [d.id for d in await box.history()]
    await box.delete(older)
    with pytest.raises(NotFound):
        await box.get(older)
    assert older not in [d.id for d in await box.history()]
    with pytest.raises(Rejected, match="is live"):
        await box.delete(live)


@pytest.mark.parametrize(
    "operation", ["get", "poll", "logs", "publish", "rollback", "stop", "restart", "delete"]
)
async def test_an_unknown_id_is_not_found(box: Sandbox, operation: str) -> None:
    """Every operation on an id the sandbox never made is NotFound, naming the id."""
    with pytest.raises(NotFound, match="Sandbox has no deployment sbx-nope for web"):
        await getattr(box, operation)("sbx-nope")


async def test_two_apps_have_their_own_ids_and_urls() -> None:
    """Each app's sandbox is its own platform: ids and URLs never collide."""
    web, docs = Sandbox("web"), Sandbox("Docs Site")
    assert {d.id for d in await web.history()}.isdisjoint(d.id for d in await docs.history())
    assert docs.url == "https://docs-site.sandbox.deploybot.dev"


# ---- the registry ------------------------------------------------------------------------


def _config(tmp_path: Path, base_url: str | None) -> configuration.Config:
    providers = f'[providers.sandbox]\nbase_url = "{base_url}"\n' if base_url else ""
    apps = '[apps.web]\nprovider = "sandbox"\n[apps.docs]\nprovider = "sandbox"\n'
    path = tmp_path / "deploybot.toml"
    path.write_text(providers + apps, encoding="utf-8")
    return configuration.load(Settings(deploybot_config=path), environ={})


async def test_the_registry_builds_one_sandbox_per_app_that_keeps_its_state(
    tmp_path: Path,
) -> None:
    """Apps on the sandbox need no key, and each adapter remembers what was done to it."""
    config = _config(tmp_path, "sandbox://local?step=0.5")
    async with httpx.AsyncClient() as client:
        built = build_all(config, client)
        assert "sandbox" in REGISTRY
        web, docs = built["web"], built["docs"]
        assert isinstance(web, Owned)  # refusing other apps' deployment IDs
        assert isinstance(web.inner, Sandbox)
        assert isinstance(docs, Owned)
        assert isinstance(docs.inner, Sandbox)
        created = await web.trigger(ref=None, env_vars={}, publish=True)
        assert (await web.get(created.id)).id == created.id
        assert created.id not in [d.id for d in await docs.history()]


@pytest.mark.parametrize(
    ("base_url", "step"),
    [("sandbox://local", 2.0), ("sandbox://local?step=0.5", 0.5), ("sandbox://x?step=3", 3.0)],
)
def test_the_step_comes_from_the_base_url(base_url: str, step: float) -> None:
    """The base URL's `step` query sets how long a phase lasts; 2 seconds without it."""
    assert sandbox_step(base_url) == step


@pytest.mark.parametrize("raw", ["0", "-1", "soon", "nan", "86400"])
def test_a_bad_step_is_said_plainly(raw: str) -> None:
    """A step that is not a sensible number of seconds is a configuration error."""
    with pytest.raises(ConfigError, match=r"providers\.sandbox\.base_url: step must be seconds"):
        sandbox_step(f"sandbox://local?step={raw}")
