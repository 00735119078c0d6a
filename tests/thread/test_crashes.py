"""A crash injected at each step of a start leaves no app busy for good: the process dies (the
step raises `Crash`, which nothing handles, and its lease is no longer renewed); once the lease
has run out the poller adopts the deployment the provider has from it, or ends the start as not
started and frees the app, and says so in the thread. (tests/thread/test_stuck.py does the same
for a deploy leaving the line; tests/usecases/test_stops.py kills real processes.)"""

from __future__ import annotations

import time
from typing import Any

import pytest

from bot.providers.base import ProviderError
from bot.providers.nometria import Nometria
from bot.render import blocks
from bot.thread import Thread
from tests.conftest import World, eventually
from tests.thread.test_stuck import (
    CHANNEL,
    LONG,
    Crash,
    _after_the_lease,
    _deploy,
    _prompt,
    _thread,
    _ticks_until,
)


@pytest.fixture
def fakes_start() -> float:
    """The providers' clock starts at the bot's: a crashed start is matched by time."""
    return time.time()


def _crash_once(
    monkeypatch: pytest.MonkeyPatch, owner: type, name: str, *, after: bool
) -> list[str]:
    """The next call of `owner.name` kills the process: before it does anything, or `after` it
    did its work (its answer lost). Returns a list that says when it happened."""
    real = getattr(owner, name)
    crashed: list[str] = []

    async def dies(self: Any, *args: Any, **kwargs: Any) -> Any:
        monkeypatch.setattr(owner, name, real)
        if after:
            await real(self, *args, **kwargs)
        crashed.append(name)
        raise Crash

    monkeypatch.setattr(owner, name, dies)
    return crashed


STEPS = {
    "taken, before its root is posted": (Thread, "open", False),
    "root posted, before its trigger": (Nometria, "trigger", False),
    "trigger reached Nometria, its answer lost": (Nometria, "trigger", True),
}


@LONG
@pytest.mark.parametrize("step", list(STEPS))
async def test_a_deploy_cut_short_at_each_step_is_recovered(
    world: World, monkeypatch: pytest.MonkeyPatch, step: str
) -> None:
    """`/deploy web` dies at `step`: the app stays held (the next deploy waits in line) until
    the start's lease runs out; then it is adopted or ended, said in its thread, and the next
    in line starts."""
    owner, name, reached = STEPS[step]
    crashed = _crash_once(monkeypatch, owner, name, after=reached)
    await world.driver.command("web", channel=CHANNEL)
    await eventually(lambda: crashed)
    await world.runtime.door.drain()
    [row] = await world.runtime.store.of_app("web")
    assert row.holds_app
    assert row.deployment_id is None
    waiting = await _deploy(world, "web a1b2c3d", count=1 if step.startswith("taken") else 2)
    await eventually(lambda: "waits its turn" in _thread(world, waiting))
    await world.tick()
    assert (await world.runtime.store.get(row.id)).holds_app  # type: ignore[union-attr]

    await _after_the_lease(world, world.tick)
    cut_short = await world.runtime.store.get(row.id)
    assert cut_short is not None
    assert cut_short.root_ts  # a start that died before its root gets one now
    if reached:
        await eventually(
            lambda: "is followed here from now on" in _thread(world, cut_short.root_ts)
        )
        await _ticks_until(world, lambda: "web is live" in _thread(world, cut_short.root_ts))
        assert world.lives(CHANNEL, cut_short.root_ts) == 1
    else:
        await eventually(lambda: "nothing was deployed" in _thread(world, cut_short.root_ts))
        assert "Nometria has no deployment from it" in _thread(world, cut_short.root_ts)
    await _ticks_until(world, lambda: "Started" in _thread(world, waiting))
    triggers = world.nometria.requests_to("POST", "/v1/deployments")
    assert [t.json.get("commit_sha") for t in triggers] == [None] * reached + ["a1b2c3d"]


@LONG
@pytest.mark.parametrize("reached", [False, True], ids=["before its trigger", "answer lost"])
async def test_an_approved_deploy_cut_short_is_recovered(
    world: World, monkeypatch: pytest.MonkeyPatch, reached: bool
) -> None:
    """The process dies between an approval being decided and the trigger being recorded: the
    deploy is adopted (Nometria had it) or ended as not started, and the app is free."""
    root = await _deploy(world, "shop", count=1)
    prompt = await _prompt(world, root)
    crashed = _crash_once(monkeypatch, Nometria, "trigger", after=reached)
    await world.driver.click(blocks.APPROVE, message_ts=prompt, user="U0LEAD", channel=CHANNEL)
    await eventually(lambda: crashed)
    await world.runtime.door.drain()
    await world.tick()
    assert "Started" not in _thread(world, root)
    await _after_the_lease(world, world.tick)
    if reached:
        await eventually(lambda: "is followed here from now on" in _thread(world, root))
        await _ticks_until(world, lambda: "shop is live" in _thread(world, root))
    else:
        await eventually(lambda: "nothing was deployed" in _thread(world, root))
    [row] = await world.runtime.store.of_app("shop")
    assert not row.holds_app
    again = await _deploy(world, "shop", count=2)
    await _prompt(world, again)  # the app is free: asked at once, not put in line
    assert len(world.nometria.requests_to("POST", "/v1/deployments")) == int(reached)


def _no_clear_answer(monkeypatch: pytest.MonkeyPatch, *, after: bool) -> None:
    """The next trigger's answer is lost to a timeout (after Nometria did the work, or not)."""
    real = Nometria.trigger

    async def unclear(self: Nometria, **kwargs: Any) -> Any:
        monkeypatch.setattr(Nometria, "trigger", real)
        if after:
            await real(self, **kwargs)
        raise ProviderError("Nometria gave no answer (ReadTimeout)")

    monkeypatch.setattr(Nometria, "trigger", unclear)


@LONG
@pytest.mark.parametrize("reached", [False, True], ids=["not reached", "reached"])
@pytest.mark.parametrize("app", ["web", "shop"])
async def test_a_trigger_without_a_clear_answer_is_looked_for_not_dropped(
    world: World, monkeypatch: pytest.MonkeyPatch, reached: bool, app: str
) -> None:
    """A trigger that timed out may have started a deployment: the thread says so, the app
    stays held (not freed, not asked again), and the poller adopts what Nometria has or ends
    the start, so a deployment never runs unfollowed and nothing is triggered twice."""
    _no_clear_answer(monkeypatch, after=reached)  # the next trigger, at once or on Approve
    root = await _deploy(world, app, count=1)
    if app == "shop":
        prompt = await _prompt(world, root)
        await world.driver.click(blocks.APPROVE, message_ts=prompt, user="U0LEAD", channel=CHANNEL)
    await eventually(lambda: "so it may have started" in _thread(world, root))
    await world.runtime.door.drain()
    assert "Could not start" not in _thread(world, root)
    [row] = await world.runtime.store.of_app(app)
    assert row.holds_app
    await _after_the_lease(world, world.tick)
    if reached:
        await eventually(lambda: "is followed here from now on" in _thread(world, root))
        await _ticks_until(world, lambda: f"{app} is live" in _thread(world, root))
    else:
        await eventually(lambda: "nothing was deployed" in _thread(world, root))
    assert len(world.nometria.requests_to("POST", "/v1/deployments")) == int(reached)
    assert not (await world.runtime.store.get(row.id)).holds_app  # type: ignore[union-attr]
