"""One deployment per app at a time: a deploy of a deploying app waits in line, shows its place
and a Cancel button, and starts by itself in its turn; a rollback never waits behind a deploy."""

from __future__ import annotations

import re
from collections.abc import Callable

from bot.render import blocks
from tests.conftest import World, eventually

_ROLLBACK = re.compile(r"\bRollback\b")  # a rollback's root, not "Rollbacks still work"
CHANNEL = "C0DEPLOYS"


def _deploy_roots(world: World, app: str) -> list[str]:
    return [m.ts for m in world.slack.root_messages(CHANNEL) if f"Deploy {app}" in m.text]


def _root_text(world: World, ts: str) -> str:
    message = world.slack.message(CHANNEL, ts)
    return message.all_text if message else ""


def _has_cancel(world: World, ts: str) -> bool:
    """The root shows its Cancel button (its edit may trail the text that says its place)."""
    message = world.slack.message(CHANNEL, ts)
    return message is not None and any(
        element.get("action_id") == blocks.CANCEL
        for block in message.blocks
        for element in block.get("elements") or []
        if isinstance(element, dict)
    )


def _thread(world: World, ts: str) -> str:
    return "\n".join(world.slack.texts_in_thread(CHANNEL, ts))


async def _deploy(world: World, text: str, *, user: str, count: int) -> str:
    """Send `/deploy text`; return the root of the `count`-th deploy of its app."""
    app = text.split(maxsplit=1)[0]
    await world.driver.command(text, user=user, channel=CHANNEL)
    roots = await eventually(lambda: _deploy_roots(world, app)[count - 1 :])
    return str(roots[0])


async def _ticks_until(world: World, check: Callable[[], bool], most: int = 30) -> None:
    for _ in range(most):
        if check():
            return
        await world.tick()
    assert check()


async def test_a_second_deploy_waits_its_turn_then_starts_by_itself(world: World) -> None:
    first = await _deploy(world, "docs", user="U0DEV", count=1)
    await eventually(lambda: "Started" in _thread(world, first))
    second = await _deploy(world, "docs feature/x", user="U0DEV", count=2)
    await eventually(lambda: "next in line" in _root_text(world, second))
    await eventually(lambda: "waits its turn (number 1 in line)" in _thread(world, second))
    await eventually(lambda: _has_cancel(world, second))  # the edit may trail the reply
    assert len(world.stormkit.requests_to("POST", "/v1/deploy")) == 1  # nothing triggered yet

    await _ticks_until(world, lambda: "is live" in _thread(world, first))
    calls = await eventually(lambda: world.stormkit.requests_to("POST", "/v1/deploy")[1:])
    assert calls[0].json["branch"] == "feature/x"
    await eventually(lambda: "Started" in _thread(world, second))
    assert "its turn came" in _thread(world, second)
    await eventually(lambda: "next in line" not in _root_text(world, second))
    await _ticks_until(world, lambda: "is live" in _thread(world, second))
    assert len(world.stormkit.requests_to("POST", "/v1/deploy")) == 2
    entries = await world.runtime.store.audit.recent("docs", limit=10)
    assert [e.outcome for e in entries if e.action == "deploy"] == ["ok", "waiting", "ok"]


async def test_cancel_takes_a_deploy_out_of_the_line_for_its_requester_only(world: World) -> None:
    first = await _deploy(world, "docs", user="U0DEV", count=1)
    await eventually(lambda: "Started" in _thread(world, first))
    second = await _deploy(world, "docs", user="U0DEV", count=2)
    third = await _deploy(world, "docs", user="U0DEV2", count=3)
    await eventually(lambda: "number 2 in line" in _root_text(world, third))
    await eventually(lambda: "next in line" in _root_text(world, second))
    await eventually(lambda: _has_cancel(world, second))

    before = len(world.slack.ephemerals)
    await world.driver.click(blocks.CANCEL, message_ts=second, user="U0DEV2", channel=CHANNEL)
    refused = await world.ephemeral_after(before)
    assert "Only the requester <@U0DEV> or <@U0LEAD> may cancel this." in refused
    assert "next in line" in _root_text(world, second)

    await world.driver.click(blocks.CANCEL, message_ts=second, user="U0DEV", channel=CHANNEL)
    await eventually(lambda: "cancelled this deploy while it waited" in _thread(world, second))
    await eventually(lambda: "Cancelled by <@U0DEV> before it started" in _root_text(world, second))
    await eventually(lambda: "next in line" in _root_text(world, third))  # moved up
    assert "Cancel" not in _root_text(world, second).split("before it started")[-1]

    await _ticks_until(world, lambda: "is live" in _thread(world, first))
    await eventually(lambda: "Started" in _thread(world, third))
    assert "Started" not in _thread(world, second)
    assert len(world.stormkit.requests_to("POST", "/v1/deploy")) == 2


async def test_its_turn_checks_locks_again(world: World) -> None:
    first = await _deploy(world, "docs", user="U0DEV", count=1)
    await eventually(lambda: "Started" in _thread(world, first))
    second = await _deploy(world, "docs", user="U0DEV", count=2)
    await eventually(lambda: "next in line" in _root_text(world, second))
    assert "locked" in await world.aloud("lock docs data migration", user="U0LEAD")

    await _ticks_until(world, lambda: "is live" in _thread(world, first))
    said = await eventually(lambda: "did not start in its turn" in _thread(world, second))
    assert said
    assert "locked by <@U0LEAD>: data migration" in _thread(world, second)
    await eventually(lambda: "Not started when its turn came" in _root_text(world, second))
    assert len(world.stormkit.requests_to("POST", "/v1/deploy")) == 1


async def test_a_rollback_does_not_wait_and_stops_the_stormkit_deploy(world: World) -> None:
    _, previous, _ = world.stormkit.seed_history(n=3)
    first = await _deploy(world, "docs", user="U0DEV", count=1)
    await eventually(lambda: "Started" in _thread(world, first))
    [deploy] = await world.runtime.store.in_flight()

    before = len(world.slack.ephemerals)
    await world.driver.command("rollback docs", user="U0LEAD", channel=CHANNEL)
    [shown] = await eventually(lambda: world.slack.ephemerals[before:])
    await world.confirm_rollback(shown.ts, user="U0LEAD", channel=CHANNEL)
    stop = f"/v1/deployments/{deploy.deployment_id}/stop"
    await eventually(lambda: world.stormkit.requests_to("POST", stop))
    await eventually(lambda: world.stormkit.requests_to("POST", f"/v1/deployments/{previous}/"))
    await eventually(lambda: "this deploy was stopped" in _thread(world, first))
    assert "<@U0LEAD> is rolling back *docs*" in _thread(world, first)
    rollback = next(m.ts for m in world.slack.root_messages(CHANNEL) if _ROLLBACK.search(m.text))
    await eventually(lambda: "in flight" in _thread(world, rollback))
    assert f"(`{deploy.deployment_id}`, by <@U0DEV>) was stopped" in _thread(world, rollback)


async def test_a_nometria_rollback_warns_the_deploy_in_flight_may_still_go_live(
    world: World,
) -> None:
    world.nometria.seed_history("proj_abc123", n=3)
    first = await _deploy(world, "web", user="U0DEV", count=1)
    await eventually(lambda: "Started" in _thread(world, first))
    before = len(world.slack.ephemerals)
    await world.driver.command("rollback web", user="U0LEAD", channel=CHANNEL)
    [shown] = await eventually(lambda: world.slack.ephemerals[before:])
    await world.confirm_rollback(shown.ts, user="U0LEAD", channel=CHANNEL)
    await eventually(lambda: world.nometria.requests_to("POST", "/v1/deployments/"))
    await eventually(lambda: "may still go live" in _thread(world, first))
    assert "Nometria cannot stop this deploy" in _thread(world, first)
    rollback = next(m.ts for m in world.slack.root_messages(CHANNEL) if _ROLLBACK.search(m.text))
    await eventually(lambda: "cannot be stopped" in _thread(world, rollback))


async def test_a_deploy_in_line_is_posted_with_its_cancel_and_never_edited_to_the_same(
    world: World,
) -> None:
    """Its root is posted with its place and Cancel button at once; a deploy joining the line
    behind it changes nothing on it, so it is not edited (chat.update) at all."""
    first = await _deploy(world, "docs", user="U0DEV", count=1)
    await eventually(lambda: "Started" in _thread(world, first))
    second = await _deploy(world, "docs", user="U0DEV", count=2)
    assert _has_cancel(world, second)  # in the message as first posted
    third = await _deploy(world, "docs", user="U0DEV2", count=3)
    await eventually(lambda: "waits its turn (number 2 in line)" in _thread(world, third))
    await world.runtime.door.drain()
    await world.runtime.outbox.idle()
    edits = [c for c in world.slack.calls_to("chat.update") if c.args.get("ts") in (second, third)]
    assert edits == []
    message = world.slack.message(CHANNEL, second)
    assert message is not None
    assert message.edit_count == 0

    await world.driver.click(blocks.CANCEL, message_ts=second, user="U0DEV", channel=CHANNEL)
    await eventually(lambda: "next in line" in _root_text(world, third))  # it moved: edited


async def test_a_deploy_cancelled_in_line_reads_cancelled_wherever_it_is_shown(
    world: World,
) -> None:
    """One state, one icon: its root, its thread, `/deploy status`, `history` and the Home tab
    all say cancelled (not "stopped", which is what someone did to a deployment under way)."""
    first = await _deploy(world, "docs", user="U0DEV", count=1)
    await eventually(lambda: "Started" in _thread(world, first))
    second = await _deploy(world, "docs feature/x", user="U0DEV", count=2)
    await eventually(lambda: _has_cancel(world, second))
    await eventually(lambda: world.runtime.store.line.waiting("docs"))  # recorded after its root
    await world.driver.click(blocks.CANCEL, message_ts=second, user="U0DEV", channel=CHANNEL)
    icon = ":heavy_multiplication_x:"
    said = f"{icon} <@U0DEV> cancelled this deploy while it waited"
    await eventually(lambda: said in _thread(world, second))
    await eventually(lambda: f"{icon} cancelled" in _root_text(world, second))
    assert "stopped" not in _root_text(world, second)

    history = await world.ask("history docs")
    assert f"{icon} _not started_ · `feature/x` · cancelled · by <@U0DEV>" in history
    assert "stopped" not in history
    status = await world.ask("status docs")
    assert "stopped" not in status
    before = world.slack.home_publishes.get("U0DEV", 0)
    await world.driver.home_opened("U0DEV")
    await eventually(lambda: world.slack.home_publishes.get("U0DEV", 0) > before)
    assert "stopped" not in world.slack.home_text("U0DEV")
    await _ticks_until(world, lambda: "is live" in _thread(world, first))


async def test_a_deploy_in_line_says_who_may_cancel_it(world: World) -> None:
    """Its requester or the app's approvers, as the policy lets them; `/deploy help` says so."""
    first = await _deploy(world, "blog", user="U0DEV", count=1)
    await eventually(lambda: "Started" in _thread(world, first))
    second = await _deploy(world, "blog", user="U0LEAD", count=2)
    said = "<@U0LEAD> or <@U0LEAD2> can Cancel it above."
    await eventually(lambda: said in _thread(world, second))
    helped = await world.ask("help")
    assert "(its requester or an approver can Cancel it)" in helped
