"""Nothing holds an app for good: approvals expire, a prompt that never reached Slack is posted
again, DEPLOYBOT_MAX_DURATION counts from the trigger, and a start a crash cut short is adopted
or ended by the poller (crashes injected at each step of a start)."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import pytest

from bot.providers.stormkit import Stormkit
from bot.render import blocks
from bot.thread import Thread
from tests.conftest import World, eventually

CHANNEL = "C0DEPLOYS"
DAY = 86_400


class Crash(BaseException):
    """The process dies here: nothing after this point runs (not an error anything handles)."""


@pytest.fixture
def fakes_start() -> float:
    """The providers' clock starts at the bot's: a crashed start is matched by time."""
    return time.time()


def _later(world: World, seconds: float) -> None:
    """Time passes for the bot and the providers alike."""
    world.wall.offset += timedelta(seconds=seconds)
    world.clock.advance(seconds)


def _thread(world: World, ts: str) -> str:
    return "\n".join(world.slack.texts_in_thread(CHANNEL, ts))


def _roots(world: World, app: str) -> list[str]:
    return [m.ts for m in world.slack.root_messages(CHANNEL) if f"Deploy {app}" in m.text]


async def _deploy(world: World, text: str, *, count: int, user: str = "U0DEV") -> str:
    """Send `/deploy text`; return the root of the `count`-th deploy of its app."""
    app = text.split(maxsplit=1)[0]
    await world.driver.command(text, user=user, channel=CHANNEL)
    roots = await eventually(lambda: _roots(world, app)[count - 1 :])
    return str(roots[0])


def _button(world: World, ts: str, action: str) -> bool:
    message = world.slack.message(CHANNEL, ts)
    return message is not None and action in str(message.blocks)


async def _prompt(world: World, root: str) -> str:
    def find() -> str | None:
        found = [m.ts for m in world.slack.thread(CHANNEL, root) if blocks.APPROVE in str(m.blocks)]
        return found[-1] if found else None

    return str(await eventually(find))


async def _prompt_recorded(world: World, app: str) -> None:
    """The prompt's ts is in the store (its approval counts from then): the clock may move."""

    async def recorded() -> bool:
        rows = await world.runtime.store.of_app(app)
        return bool(rows) and rows[0].prompt_ts is not None

    await eventually(recorded)


async def _ticks_until(world: World, check: Callable[[], bool], most: int = 20) -> None:
    for _ in range(most):
        if check():
            return
        await world.tick()
    assert check()


async def _late_click(world: World, prompt: str) -> str:
    """Approve on the prompt as it first showed (someone may still see that copy)."""
    message = world.slack.message(CHANNEL, prompt)
    assert message is not None
    _, first_blocks = message.history[0]
    [value] = [
        element["value"]
        for block in first_blocks
        for element in block.get("elements", [])
        if element.get("action_id") == blocks.APPROVE
    ]
    before = len(world.slack.ephemerals)
    await world.driver.click(
        blocks.APPROVE,
        value,
        message_ts=prompt,
        user="U0LEAD",
        channel=CHANNEL,
        require_button=False,
    )
    return await world.ephemeral_after(before)


# -- DEPLOYBOT_MAX_DURATION counts from the trigger ----------------------------------------------


async def test_a_deploy_approved_after_hours_is_followed_to_live(world: World) -> None:
    """Approved two hours after it was asked for (MAX_DURATION is one): it is followed to
    live, not given up on its first poll."""
    root = await _deploy(world, "shop", count=1)
    prompt = await _prompt(world, root)
    _later(world, 2 * 3600)
    await world.driver.click(blocks.APPROVE, message_ts=prompt, user="U0LEAD", channel=CHANNEL)
    await eventually(lambda: "Started" in _thread(world, root))
    await _ticks_until(world, lambda: "shop is live" in _thread(world, root))
    assert "I stop following it" not in _thread(world, root)


async def test_a_deploy_that_waited_in_line_for_hours_is_followed_to_live(world: World) -> None:
    """Its turn comes after two hours in line: its time counts from its trigger, so it is
    followed to live (the one before it, stuck for those hours, is the one given up)."""
    world.stormkit.step = 10_000  # the first build never ends by itself
    first = await _deploy(world, "docs", count=1)
    await eventually(lambda: "Started" in _thread(world, first))
    second = await _deploy(world, "docs", count=2)
    await eventually(lambda: "waits its turn" in _thread(world, second))
    _later(world, 2 * 3600)
    world.stormkit.step = 1.0
    await world.tick()
    await eventually(lambda: "I stop following it" in _thread(world, first))
    await _ticks_until(world, lambda: "Started" in _thread(world, second))
    await _ticks_until(world, lambda: "docs is live" in _thread(world, second))
    assert "I stop following it" not in _thread(world, second)


# -- approvals expire -----------------------------------------------------------------------------


async def test_a_nometria_approval_expires_and_frees_the_app(world: World) -> None:
    """Nobody decides within a day: the thread says so, the buttons go, the app is free (the
    next deploy asks again instead of waiting in line), and a late click does nothing."""
    root = await _deploy(world, "shop", count=1)
    prompt = await _prompt(world, root)
    await _prompt_recorded(world, "shop")
    _later(world, DAY - 60)
    await world.tick()
    assert "expired" not in _thread(world, root)
    _later(world, 120)
    await world.tick()
    await eventually(
        lambda: "the approval expired, and nothing was triggered" in _thread(world, root)
    )
    await eventually(lambda: not _button(world, prompt, blocks.APPROVE))
    assert "Approval expired after 24 hours" in world.slack.message(CHANNEL, prompt).text  # type: ignore[union-attr]
    late = await _late_click(world, prompt)
    assert "That approval expired: nobody decided in time. Nothing was done." in late
    again = await _deploy(world, "shop", count=2)
    await _prompt(world, again)
    assert "waits its turn" not in _thread(world, again)
    assert world.nometria.requests_to("POST", "/v1/deployments") == []


@pytest.mark.parametrize("settings_extra", [{"deploybot_approval_ttl": 600}])
async def test_a_ready_stormkit_build_expires_after_the_ttl_set(world: World) -> None:
    """DEPLOYBOT_APPROVAL_TTL=600: a build ready for ten minutes with nobody deciding is not
    published, and `/deploy publish` of it is refused with what to do instead."""
    root = await _deploy(world, "blog", count=1)
    await eventually(lambda: "Started" in _thread(world, root))
    await world.tick(2)
    prompt = await _prompt(world, root)
    await _prompt_recorded(world, "blog")
    _later(world, 601)
    await world.tick()
    await eventually(
        lambda: "the approval expired, and nothing was published" in _thread(world, root)
    )
    await eventually(lambda: not _button(world, prompt, blocks.APPROVE))
    [deployment] = world.stormkit.requests_to("POST", "/v1/deploy")
    built = await world.runtime.store.in_flight()
    assert built == []
    rows = await world.runtime.store.of_app("blog")
    said = await world.ask(f"publish blog {rows[0].deployment_id}", user="U0LEAD")
    assert "discarded when its approval expired" in said
    assert world.stormkit.requests_to("POST", f"/v1/deployments/{rows[0].deployment_id}") == []
    assert deployment.json["publish"] is False


# -- a prompt that never reached Slack -------------------------------------------------------------


async def test_a_prompt_lost_in_a_crash_is_posted_again(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The process dies after recording a Nometria deploy and before queueing its prompt:
    nobody could click. Once its lease has run out the poller posts the prompt again, and
    approving it deploys."""
    prompt = Thread.prompt

    async def dies(self: Thread, *args: Any, **kwargs: Any) -> None:
        monkeypatch.setattr(Thread, "prompt", prompt)
        raise Crash

    monkeypatch.setattr(Thread, "prompt", dies)
    root = await _deploy(world, "shop", count=1)
    await world.tick()
    assert not any(blocks.APPROVE in str(m.blocks) for m in world.slack.thread(CHANNEL, root))
    _later(world, world.runtime.config.settings.poll_lease_seconds + 1)
    await world.tick()
    again = await _prompt(world, root)
    assert "did not reach Slack" in world.slack.message(CHANNEL, again).text  # type: ignore[union-attr]
    await world.tick()
    assert (
        len([m for m in world.slack.thread(CHANNEL, root) if blocks.APPROVE in str(m.blocks)]) == 1
    )
    await world.driver.click(blocks.APPROVE, message_ts=again, user="U0LEAD", channel=CHANNEL)
    await eventually(lambda: "Started" in _thread(world, root))
    assert len(world.nometria.requests_to("POST", "/v1/deployments")) == 1


# -- a start cut short by a crash, leaving the line ----------------------------------------------


def _crash_stormkit_trigger(monkeypatch: pytest.MonkeyPatch, *, reached: bool) -> None:
    """The next trigger kills the process: before the request leaves, or once Stormkit has it."""
    trigger = Stormkit.trigger

    async def dies(self: Stormkit, **kwargs: Any) -> Any:
        monkeypatch.setattr(Stormkit, "trigger", trigger)
        if reached:
            await trigger(self, **kwargs)
        raise Crash

    monkeypatch.setattr(Stormkit, "trigger", dies)


async def _second_in_line_crashes(
    world: World, monkeypatch: pytest.MonkeyPatch, *, reached: bool
) -> tuple[str, str]:
    first = await _deploy(world, "docs", count=1)
    await eventually(lambda: "Started" in _thread(world, first))
    second = await _deploy(world, "docs feature/x", count=2)
    await eventually(lambda: "waits its turn" in _thread(world, second))
    _crash_stormkit_trigger(monkeypatch, reached=reached)
    with pytest.raises(Crash):
        await _ticks_until(world, lambda: False)
    assert "docs is live" in _thread(world, first)
    return first, second


async def _after_the_lease(world: World, tick: Callable[[], Awaitable[None]]) -> None:
    _later(world, world.runtime.config.settings.poll_lease_seconds + 1)
    await tick()


# The world's lease is two hours (its poll interval is one, ticks are the test's): longer than
# DEPLOYBOT_MAX_DURATION, which would end a deployment recovered only after it.
LONG = pytest.mark.parametrize("settings_extra", [{"deploybot_max_duration": DAY}])


@LONG
async def test_a_start_cut_short_before_its_trigger_ends_and_frees_the_app(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Crash between taking a deploy out of line and triggering it: once its lease has run
    out it is ended as not started, said in its thread, and the app deploys again at once."""
    _, second = await _second_in_line_crashes(world, monkeypatch, reached=False)
    third = await _deploy(world, "docs", count=3)
    await eventually(lambda: "waits its turn" in _thread(world, third))  # held by the crashed one
    await world.tick()
    assert "nothing was deployed" not in _thread(world, second)  # its lease still holds
    await _after_the_lease(world, world.tick)
    await eventually(lambda: "nothing was deployed" in _thread(world, second))
    assert "Stormkit has no deployment from it" in _thread(world, second)
    await eventually(lambda: "Not started" in world.slack.message(CHANNEL, second).all_text)  # type: ignore[union-attr]
    await _ticks_until(world, lambda: "Started" in _thread(world, third))
    assert len(world.stormkit.requests_to("POST", "/v1/deploy")) == 2  # the first, the third


@LONG
async def test_a_start_cut_short_after_its_trigger_is_adopted_and_followed(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Crash once Stormkit has the trigger, before the bot recorded it: the poller finds the
    deployment in Stormkit's recent list and follows it to live in its thread, once."""
    _, second = await _second_in_line_crashes(world, monkeypatch, reached=True)
    [_, triggered] = world.stormkit.requests_to("POST", "/v1/deploy")
    assert triggered.json["branch"] == "feature/x"
    await _after_the_lease(world, world.tick)
    await eventually(lambda: "is followed here from now on" in _thread(world, second))
    await _ticks_until(world, lambda: "docs is live" in _thread(world, second))
    assert world.lives(CHANNEL, second) == 1
    [row] = [r for r in await world.runtime.store.of_app("docs") if r.root_ts == second]
    assert row.deployment_id is not None
    assert not row.holds_app
    assert len(world.stormkit.requests_to("POST", "/v1/deploy")) == 2
