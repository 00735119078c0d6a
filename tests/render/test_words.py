"""What the root and the thread say stays true from one message to the next: no state shown,
taken back and shown again; one ref, in one word; the approvers named where they are asked."""

from __future__ import annotations

import re

import pytest

from bot.render import blocks
from tests.conftest import STORMKIT_FLAVOURS, World, eventually

CHANNEL = "C0DEPLOYS"


@pytest.fixture(params=STORMKIT_FLAVOURS)
def stormkit_flavour(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def _root_versions(world: World, ts: str) -> list[str]:
    message = world.slack.message(CHANNEL, ts)
    assert message is not None
    return [text for text, _ in message.history]


def _refs(texts: list[str]) -> list[str]:
    return [m[1] for text in texts if (m := re.search(r"\(([^)]*)\): ", text))]


async def _deploy(world: World, text: str) -> str:
    await world.driver.command(text, channel=CHANNEL)
    [root] = await eventually(lambda: world.slack.root_messages(CHANNEL))
    return str(root.ts)


async def test_a_stormkit_approval_waits_once_the_build_is_ready(world: World) -> None:
    """The root follows the build, then waits for approval: it never waits, builds, waits."""
    root = await _deploy(world, "blog")
    for _ in range(4):
        await world.tick()
    await eventually(lambda: blocks.APPROVE in str(world.slack.thread(CHANNEL, root)))
    texts = _root_versions(world, root)
    waiting = [("waiting for approval" in text) for text in texts]
    assert waiting[-1]
    assert waiting == sorted(waiting), texts  # once waiting, always waiting
    refs = _refs(texts)
    # Asked for without a ref: the default branch, then its name as Stormkit gives it, still
    # called the default branch, so it never reads as a change of branch.
    assert refs[0] == "default branch"
    assert set(refs[1:]) == {"main, default branch"}, texts


async def test_nometria_approval_names_the_ref_and_the_approvers_alike(world: World) -> None:
    """The root and the prompt call a missing ref the same; the prompt names who approves."""
    root = await _deploy(world, "shop")
    prompt = await eventually(lambda: world.last_reply(CHANNEL, root))
    message = world.slack.message(CHANNEL, root)
    assert message is not None
    assert "(default branch): waiting for approval" in message.text
    assert "(default branch)" in prompt
    assert "HEAD" not in prompt
    assert "<@U0LEAD>, <@U0LEAD2>: approve it?" in prompt


async def test_a_known_default_branch_is_named_at_once_and_stays(world: World) -> None:
    """`docs` names its default branch in the apps file: the root says it from its first
    version to its last, and its Ref field calls it the default branch; an asked ref is its name."""
    root = await _deploy(world, "docs")
    for _ in range(6):
        await world.tick()
    texts = await eventually(lambda: (t := _root_versions(world, root)) and "live" in t[-1] and t)
    assert len(texts) > 1
    assert set(_refs(texts)) == {"main, default branch"}, texts
    message = world.slack.message(CHANNEL, root)
    assert message is not None
    assert "*Ref*\n`main` (default branch)" in message.all_text, message.all_text


async def test_an_asked_ref_is_named_as_asked(world: World) -> None:
    root = await _deploy(world, "blog release/2.0")
    await eventually(lambda: len(_root_versions(world, root)) > 1)
    assert set(_refs(_root_versions(world, root))) == {"release/2.0"}
