"""`/deploy status` tells the truth per deployment: what was live and was replaced, a discarded
build, a failed deploy, a rollback and who did it."""

from __future__ import annotations

from bot.render import blocks
from tests.conftest import World, eventually
from tests.usecases.test_rollback import _confirm, _confirmation, _rollback_root

CHANNEL = "C0DEPLOYS"


def _text(world: World, ts: str) -> str:
    message = world.slack.message(CHANNEL, ts)
    return message.all_text if message is not None else ""


def _line_of(answer: str, dep: str) -> str:
    [line] = [line for line in answer.splitlines() if f": `{dep}` " in line]
    return line


def _history_line(answer: str, dep: str) -> str:
    [line] = [line for line in answer.splitlines() if f"`{dep}` · " in line]
    return line


async def test_a_rollback_leaves_the_older_deployments_as_they_were(world: World) -> None:
    """Nometria calls every replaced deployment "rolled_back": status says "was live", and the
    rollback's own line says who rolled back to it; the original build keeps its deployer."""
    live, previous, oldest = world.nometria.seed_history("proj_abc123", n=3)
    ts, _ = await _confirmation(world, "rollback web", user="U0LEAD", channel=CHANNEL)
    await _confirm(world, ts, user="U0LEAD", channel=CHANNEL)
    root = await eventually(lambda: _rollback_root(world, CHANNEL))
    await eventually(lambda: "Started" in world.last_reply(CHANNEL, root))  # it is followed
    for _ in range(3):
        await world.tick()
    await eventually(lambda: "web is live" in world.last_reply(CHANNEL, root))
    now_live = world.nometria.live_id("proj_abc123")
    assert now_live is not None

    answer = await world.ask("status web")
    assert "rolled back:" not in answer
    for dep in (live, previous, oldest):  # ☑️, not the rollback's ⏪: no rollback went there
        assert _line_of(answer, dep).startswith(":ballot_box_with_check: was live: ")
    newest = _line_of(answer, now_live)
    assert "(<@U0LEAD> rolled back to it just now)" in newest
    assert "← *live*" in newest
    assert "<@U0LEAD> rolled back to" in answer  # the recent actions

    history = await world.ask("history web")  # the same deployments, in the same words
    for dep in (live, previous, oldest):
        line = _history_line(history, dep)
        assert line.startswith(f":ballot_box_with_check: `{dep}` · ")
        assert " · was live · " in line
    assert "rolled back ·" not in history


async def test_a_discarded_build_and_a_failed_deploy_say_so(world: World) -> None:
    """A discarded Stormkit build is "discarded", not "ready"; a deploy that failed is "failed",
    and the recent actions say it was started, not that it went "ok"."""
    await world.driver.command("blog", channel=CHANNEL)
    [root] = await eventually(lambda: world.slack.root_messages(CHANNEL))
    for _ in range(4):
        await world.tick()
    prompt = await eventually(
        lambda: next(
            (m.ts for m in world.slack.thread(CHANNEL, root.ts) if blocks.APPROVE in str(m.blocks)),
            None,
        )
    )
    await world.driver.click(blocks.DISCARD, message_ts=prompt, user="U0DEV", channel=CHANNEL)
    await eventually(lambda: "discarded by <@U0DEV>" in _text(world, root.ts))
    [built] = list(world.stormkit.deployments)
    answer = await world.ask("status blog")
    assert _line_of(answer, built).startswith(":package: discarded:")
    assert f"<@U0DEV> discarded `{built}`" in answer
    assert " · discarded · by <@U0DEV>" in _history_line(await world.ask("history blog"), built)

    world.nometria.fail_next()
    await world.driver.command("web", channel=CHANNEL)
    [_, web] = await eventually(
        lambda: world.slack.root_messages(CHANNEL)[1:] and world.slack.root_messages(CHANNEL)
    )
    await eventually(lambda: "Started" in world.last_reply(CHANNEL, web.ts))  # it is followed
    [failed] = list(world.nometria.deployments)
    for _ in range(3):
        await world.tick()
    answer = await world.ask("status web")
    assert _line_of(answer, failed).startswith(":x: failed:")
    assert f"<@U0DEV> started a deploy `{failed}`" in answer
    assert ": ok" not in answer


async def test_a_stormkit_rollback_target_keeps_its_deployer_apart(world: World) -> None:
    """Stormkit rolls back by publishing the old build: its line says who rolled back to it,
    not that they deployed it."""
    _, previous, _ = world.stormkit.seed_history(n=3)
    ts, _ = await _confirmation(world, "rollback docs", user="U0LEAD", channel=CHANNEL)
    await _confirm(world, ts, user="U0LEAD", channel=CHANNEL)
    root = await eventually(lambda: _rollback_root(world, CHANNEL))
    await world.live_after_publish(CHANNEL, root)
    line = _line_of(await world.ask("status docs"), previous)
    assert "(<@U0LEAD> rolled back to it just now)" in line
    assert "by <@U0LEAD>" not in line  # they did not deploy it
    assert line.endswith("← *live*")


async def test_a_refused_action_is_said_with_its_verb(world: World) -> None:
    """Recent actions read as sentences: "asked to roll back", not "asked to rollback"."""
    world.nometria.seed_history("proj_abc123", n=2)
    refused = await world.ask("rollback web", user="U0DEV")
    assert (
        "Only <@U0LEAD> or anyone in an incident channel (<#C0INCIDENT>) may roll back `web`: "
        "type `/deploy rollback web` there." in refused
    )
    answer = await world.ask("status web")
    assert "<@U0DEV> asked to roll back: was refused" in answer
    assert "asked to rollback" not in answer


async def test_a_deploy_put_in_line_and_cancelled_reads_as_what_happened(world: World) -> None:
    """Nothing failed: a deploy waited in line, then its requester cancelled it."""
    await world.driver.command("docs", channel=CHANNEL)
    first = (await eventually(lambda: world.slack.root_messages(CHANNEL)))[0].ts
    await eventually(lambda: "Started" in world.last_reply(CHANNEL, first))
    await world.driver.command("docs", channel=CHANNEL)
    second = await eventually(lambda: (r := world.slack.root_messages(CHANNEL))[1:] and r[1].ts)
    await eventually(lambda: world.runtime.store.line.waiting("docs"))  # recorded after its root
    await world.driver.click(blocks.CANCEL, message_ts=second, user="U0DEV", channel=CHANNEL)
    await eventually(lambda: "cancelled this deploy" in world.last_reply(CHANNEL, second))

    answer = await world.ask("status docs")
    assert "<@U0DEV> asked for a deploy, put in line (number 1 in line)" in answer
    assert "<@U0DEV> cancelled a deploy waiting in line" in answer
    assert "failed" not in answer
