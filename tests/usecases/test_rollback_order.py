"""A rollback while a deploy is in flight says each fact once, in the order it happened: the
person is told where to follow before the thread says anything, the deploy stopped is said
before the rollback's status, and the stopped deploy's thread hears of its end once."""

from __future__ import annotations

import re

from tests.conftest import World, eventually
from tests.fakes.slack import Call

CHANNEL = "C0DEPLOYS"
_ROLLBACK = re.compile(r"\bRollback\b")


def _seen(world: World) -> list[Call]:
    """What reached Slack, in the order it arrived: posts, edits and private answers."""
    said = {"chat.postMessage", "chat.update", "response_url"}
    return [c for c in world.slack.timeline if c.method in said]


def _replies(world: World, root: str) -> list[str]:
    return [
        str(c.args.get("text"))
        for c in _seen(world)
        if c.method == "chat.postMessage" and c.args.get("thread_ts") == root
    ]


def _first_reply(world: World, root: str) -> int:
    return next(
        i
        for i, c in enumerate(_seen(world))
        if c.method == "chat.postMessage" and c.args.get("thread_ts") == root
    )


def _private(world: World, words: str) -> int:
    """Where in the order the person was told `words` privately."""
    return next(
        i
        for i, c in enumerate(_seen(world))
        if c.method == "response_url" and words in str(c.args.get("text"))
    )


def _root_posted(world: World, root: str) -> int:
    return next(
        i
        for i, c in enumerate(_seen(world))
        if c.method == "chat.postMessage" and c.response.get("ts") == root
    )


async def _deploy_in_flight(world: World, app: str) -> str:
    await world.driver.command(app, user="U0DEV", channel=CHANNEL)
    [root] = await eventually(
        lambda: [m.ts for m in world.slack.root_messages(CHANNEL) if f"Deploy {app}" in m.text]
    )
    await eventually(lambda: any("Started" in t for t in _replies(world, root)))
    return str(root)


async def _roll_back(world: World, app: str) -> str:
    before = len(world.slack.ephemerals)
    await world.driver.command(f"rollback {app}", user="U0LEAD", channel=CHANNEL)
    [shown] = await eventually(lambda: world.slack.ephemerals[before:])
    await world.confirm_rollback(shown.ts, user="U0LEAD", channel=CHANNEL)
    [root] = await eventually(
        lambda: [m.ts for m in world.slack.root_messages(CHANNEL) if _ROLLBACK.search(m.text)]
    )
    return str(root)


async def test_a_stopped_deploy_is_said_once_and_before_the_rollback_is_live(
    world: World,
) -> None:
    """Stormkit stops the deploy in flight: its thread hears so once, with no logs; the
    rollback's thread says why, then the deploy stopped, then live; the person is told where
    to follow before any of it."""
    _, previous, _ = world.stormkit.seed_history(n=3)
    deploy = await _deploy_in_flight(world, "docs")
    before = len(_replies(world, deploy))
    rollback = await _roll_back(world, "docs")
    await eventually(lambda: any("is live" in t for t in _replies(world, rollback)))
    for _ in range(3):  # the poller finds nothing more to say of the stopped deploy
        await world.tick()
    await world.runtime.door.drain()

    said = _replies(world, rollback)
    assert [t.split(" ", 2)[1] for t in said] == ["<@U0LEAD>", "The", "*docs"], said
    assert "rolls back *docs*" in said[0]
    assert f"to `{previous}`" in said[0]
    assert "in flight" in said[1]
    assert "was stopped" in said[1]
    assert "is live" in said[2]

    told = _private(world, f"Rolling back docs to `{previous}`")
    assert _root_posted(world, rollback) < told < _first_reply(world, rollback)

    stopped = _replies(world, deploy)[before:]
    assert len(stopped) == 1, stopped
    assert "<@U0LEAD> is rolling back *docs*" in stopped[0]
    assert "this deploy was stopped" in stopped[0]
    assert "```" not in "".join(stopped)  # no log dump for a deploy stopped on purpose
    root = world.slack.message(CHANNEL, deploy)
    assert root is not None
    assert "stopped" in root.text


async def test_a_deploy_nometria_cannot_stop_is_warned_of_before_the_rollback_starts(
    world: World,
) -> None:
    """Nometria has no stop: the rollback's thread warns of the deploy in flight before it
    says the rollback started, and the deploy's thread is warned once."""
    world.nometria.seed_history("proj_abc123", n=3)
    deploy = await _deploy_in_flight(world, "web")
    before = len(_replies(world, deploy))
    rollback = await _roll_back(world, "web")
    await eventually(lambda: len(_replies(world, rollback)) >= 3)
    await world.runtime.door.drain()

    said = _replies(world, rollback)
    assert "rolls back *web*" in said[0]
    assert "cannot be stopped: it may still go live after the rollback" in said[1]
    assert said[2].startswith("Started"), said
    assert _private(world, "Rolling back web") < _first_reply(world, rollback)
    warned = _replies(world, deploy)[before:]
    assert len(warned) == 1
    assert "Nometria cannot stop this deploy" in warned[0]
