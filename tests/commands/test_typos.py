"""Typos get a suggestion that can be typed, and limits are said with their number."""

from __future__ import annotations

import pytest

from bot.commands import Deploy
from bot.commands.parser import parse
from bot.commands.usage import UsageError
from tests.conftest import World

APPS = ("web", "docs", "blog")


@pytest.mark.parametrize(
    ("text", "said", "usage"),
    [
        (
            "rollbak web",
            "There is no app called `rollbak`. Did you mean `/deploy rollback web`?",
            "/deploy rollback <app> [deployment-id]",
        ),
        ("stauts web", "Did you mean `/deploy status web`?", "/deploy status <app>"),
        ("status wbe", "There is no app called `wbe`. Did you mean `web`?", "/deploy status <app>"),
        ("lock dcos freeze", "Did you mean `docs`?", "/deploy lock <app> [reason]"),
        ("wéb", "Did you mean `web`?", "/deploy <app>"),
        ("WEB main", "There is no app called `WEB`. Did you mean `web`?", "/deploy <app>"),
        ("web " + "a" * 308, "A branch or commit is at most 200 characters; ", "/deploy <app>"),
        ("logs web " + "d" * 150, "A deployment id is at most 100 characters; ", "/deploy logs"),
        (
            "x" * 5000,
            "That command is 5,000 characters long; the limit is 1,000.",
            "/deploy <app>",
        ),
        ("status " + "w" * 5000, "the limit is 1,000", "/deploy status <app>"),
    ],
)
async def test_a_typo_is_answered_with_what_to_type(
    world: World, text: str, said: str, usage: str
) -> None:
    answer = await world.ask(text)
    assert said in answer
    assert f"Usage: `{usage}" in answer
    assert world.slack.calls_to("chat.postMessage") == []
    assert world.nometria.requests == []
    assert world.stormkit.requests == []


def test_no_suggestion_when_nothing_is_close() -> None:
    with pytest.raises(UsageError) as raised:
        parse("zzz", APPS)
    assert "Did you mean" not in str(raised.value)
    assert "Apps: `blog`, `docs`, `web`." in str(raised.value)


def test_an_app_close_to_a_verb_is_still_deployed() -> None:
    assert parse("stat main", ("stat",)) == Deploy(app="stat", ref="main")


def test_the_ref_length_is_said() -> None:
    with pytest.raises(UsageError, match="has 308"):
        parse("web " + "a" * 308, APPS)
    assert parse("web " + "a" * 200, APPS) == Deploy(app="web", ref="a" * 200)
