"""An announcement always happens: a failure whose log is long and full of `<`, `>` and `&` ends
its thread as failed with an excerpt, DMs its requester and frees the app; a message that cannot
be built, or that Slack refuses, still leaves a plain message, the DM and the queue moving."""

from __future__ import annotations

import logging

import pytest

from bot.render import blocks
from tests.conftest import World, eventually

CHANNEL = "C0DEPLOYS"

# A Node build's failure: `> npm run build`, generics, `&&`, a stack trace, and minified code.
TRACE = [
    (1.0, "info", "> web@1.0.0 build /app"),
    (1.1, "info", "> next build && tsc --project tsconfig.json > build.log 2>&1"),
    *[
        (1.2, "info", f"compiled <Page<Props & State>> chunk #{i} -> .next/static/<hash>&v={i}")
        for i in range(40)
    ],
    (1.5, "error", "TypeError: Cannot read properties of undefined (reading '<init>')"),
    *[
        (1.6, "error", f"    at Object.<anonymous> (/app/src/<gen>&lt;{i}&gt;.ts:{i}:7) <-> a&&b")
        for i in range(120)
    ],
    (1.7, "error", "minified: " + "if(a<b&&c>d)e&=f<<2>>1;" * 400),
    (1.9, "error", "npm ERR! code ELIFECYCLE & exit status 1 <end>"),
]


async def _root(world: World, text: str, *, nth: int = 0) -> str:
    response = await world.driver.command(text, user="U0DEV", channel=CHANNEL)
    assert response.status_code == 200
    roots = await eventually(lambda: world.slack.root_messages(CHANNEL)[nth:])
    return str(roots[0].ts)


def _said(world: World, ts: str, words: str) -> str:
    """The thread's first reply that says `words`, or "" while there is none."""
    return next((t for t in world.slack.texts_in_thread(CHANNEL, ts) if words in t), "")


def _failed_reply(world: World, ts: str) -> str:
    return _said(world, ts, "failed")


async def _ends_failed(world: World, ts: str) -> str:
    for _ in range(6):
        await world.tick()
    said: str = await eventually(lambda: _failed_reply(world, ts))
    return said


async def test_a_long_trace_full_of_markup_ends_failed_with_an_excerpt(world: World) -> None:
    """The "done when" case: failed in the thread with an excerpt, a DM, the app free at once."""
    world.nometria.failure_log = TRACE
    ts = await _root(world, "web bad1234")
    said = await _ends_failed(world, ts)
    assert "web failed" in said
    assert "```" in said
    assert "TypeError: Cannot read properties" in said
    assert "&lt;anonymous&gt;" in said  # escaped, once
    assert "left out" in said  # the excerpt says how much it did not show
    assert ":x:" in world.slack.root_messages(CHANNEL)[0].text  # the root says failed too
    dm = world.slack.dm_channel("U0DEV")
    [message] = await eventually(lambda: world.slack.messages.get(dm))
    assert "Your deployment of *web*" in message.all_text
    refused = [c for c in world.slack.calls if not c.ok and c.method.startswith("chat.")]
    assert refused == []

    next_ts = await _root(world, "web", nth=1)
    await eventually(lambda: "Started" in world.last_reply(CHANNEL, next_ts))


async def test_the_next_deploy_in_line_starts_after_a_long_failure(world: World) -> None:
    """A deploy waiting behind the one that fails starts when it fails."""
    world.nometria.failure_log = TRACE
    ts = await _root(world, "web bad1234")
    await eventually(lambda: "Started" in world.last_reply(CHANNEL, ts))
    waiting = await _root(world, "web", nth=1)
    await _ends_failed(world, ts)
    await world.tick()
    await eventually(lambda: _said(world, waiting, "Started"))


async def test_a_builder_that_raises_still_announces(
    world: World, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The failure's message cannot be built: a plain one says failed, the log says why, the DM
    goes out and the next deploy starts."""

    def broken(*args: object, **kwargs: object) -> blocks.Message:
        raise RuntimeError("a builder bug")

    monkeypatch.setattr(blocks, "failed", broken)
    ts = await _root(world, "web bad1234")
    await eventually(lambda: "Started" in world.last_reply(CHANNEL, ts))
    waiting = await _root(world, "web", nth=1)
    with caplog.at_level(logging.WARNING):
        said = await _ends_failed(world, ts)
    assert "web failed" in said
    assert "a builder bug" in caplog.text
    dm = world.slack.dm_channel("U0DEV")
    await eventually(lambda: world.slack.messages.get(dm))
    await world.tick()
    await eventually(lambda: _said(world, waiting, "Started"))


async def test_blocks_slack_refuses_go_again_as_plain_text(world: World) -> None:
    """Slack answers `invalid_blocks`, then `msg_too_long`: the thread still says failed, in
    words, and the DM and the next deploy follow."""
    ts = await _root(world, "web bad1234")
    await eventually(lambda: "Started" in world.last_reply(CHANNEL, ts))
    waiting = await _root(world, "web", nth=1)
    world.slack.refuse_blocks("invalid_blocks", times=1)
    world.slack.refuse_blocks("msg_too_long", times=10)
    said = await _ends_failed(world, ts)
    assert "web failed" in said
    dm = world.slack.dm_channel("U0DEV")
    [message] = await eventually(lambda: world.slack.messages.get(dm))
    assert "failed" in message.text
    assert message.blocks == []
    refused = {c.response.get("error") for c in world.slack.calls if not c.ok}
    assert refused == {"invalid_blocks", "msg_too_long"}
    await world.tick()
    await eventually(lambda: _said(world, waiting, "Started"))
