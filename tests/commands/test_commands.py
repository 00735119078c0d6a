"""The `/deploy` grammar: typed requests or a usage error, nothing in between."""

from __future__ import annotations

import pytest

from bot.commands import Deploy, Help, History, Operate, Stats
from bot.commands.deploy import commit_only
from bot.commands.parser import parse
from bot.commands.reasons import reason_problem
from bot.commands.usage import USAGE, UsageError


@pytest.mark.parametrize("text", ["", "   ", "help", "HELP"])
def test_no_words_or_help_is_help(text: str) -> None:
    assert parse(text) == Help()


def test_app_ref_and_overrides() -> None:
    assert parse("web a1b2c3d FEATURE_X=on LOG_LEVEL=debug") == Deploy(
        app="web", ref="a1b2c3d", env={"FEATURE_X": "on", "LOG_LEVEL": "debug"}
    )
    assert parse("docs release/2.0") == Deploy(app="docs", ref="release/2.0")
    assert parse("web A=1") == Deploy(app="web", env={"A": "1"})


def test_quotes_hold_a_value_with_spaces_and_the_force_reason_stays_free_text() -> None:
    assert parse('web FOO="a b" BAR=\'c d\' EMPTY=""') == Deploy(
        app="web", env={"FOO": "a b", "BAR": "c d", "EMPTY": ""}
    )
    assert parse("web FOO=\u201ca b\u201d") == Deploy(app="web", env={"FOO": "a b"})
    assert parse("web main --force don't wait") == Deploy(app="web", ref="main", force="don't wait")
    assert parse('web X="--force y" --force "why"') == Deploy(
        app="web", env={"X": "--force y"}, force="why"
    )


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("we$b", "There is no app or command called `we\\$b`"),
        ("web ../etc", "is not a branch or commit"),
        ("web main 1A=2", "An override's name is letters, digits and `_`"),
        ("web main extra", "After the ref come KEY=VALUE overrides only; `extra` is not one"),
        ("web " + "x" * 1000, "characters long"),
    ],
)
def test_bad_words_are_usage_errors(text: str, problem: str) -> None:
    with pytest.raises(UsageError, match=problem) as raised:
        parse(text)
    assert raised.value.usage.startswith("/deploy")


@pytest.mark.parametrize("ref", [None, "a1b2c3d", "A1B2C3D4E5", "0" * 40])
def test_a_nometria_ref_may_be_a_commit_sha_or_nothing(ref: str | None) -> None:
    commit_only("web", ref)


@pytest.mark.parametrize("ref", ["release/2.0", "main", "a1b2c3", "0" * 41, "e4f5g6h"])
def test_a_nometria_ref_that_cannot_be_a_commit_is_a_usage_error(ref: str) -> None:
    with pytest.raises(
        UsageError, match="Nometria deploys commits of the branch `web` is connected to"
    ) as caught:
        commit_only("web", ref)
    assert f"`{ref}` is not a commit SHA" in str(caught.value)


def test_history_and_stats_with_or_without_days() -> None:
    assert parse("history web") == History("web")
    assert parse("stats web") == Stats("web", 30)
    assert parse("stats web 7") == Stats("web", 7)


@pytest.mark.parametrize("days", ["0", "366", "seven", "-1", "٣", "7.5"])
def test_days_must_be_a_whole_number_in_range(days: str) -> None:
    with pytest.raises(UsageError, match="Give the days as a whole number from 1 to 365") as raised:
        parse(f"stats web {days}")
    assert raised.value.usage == "/deploy stats <app> [days]"


def test_swapped_letters_suggest_the_word_with_those_letters() -> None:
    """`stauts` is nearer `stats` by difflib's measure; the person meant `status`."""
    with pytest.raises(UsageError, match="Did you mean `/deploy status web`"):
        parse("stauts web", apps=["web"])
    with pytest.raises(UsageError, match="Did you mean `/deploy stats web`"):
        parse("stast web", apps=["web"])


def test_force_takes_the_rest_as_its_reason() -> None:
    request = parse('web main KEY=1 --force "hotfix for the outage"')
    assert request == Deploy(app="web", ref="main", env={"KEY": "1"}, force="hotfix for the outage")
    assert parse("web --force db is down").force == "db is down"  # type: ignore[union-attr]


def test_publish_and_restart_take_force_and_stop_does_not() -> None:
    """They put a build live, as a deploy does: a lock or a freeze holds them, and they may
    break glass; stop and logs put nothing live."""
    assert parse('publish web d1 --force "the fix"') == Operate("publish", "web", "d1", "the fix")
    assert parse("restart web d1 --force db down").force == "db down"  # type: ignore[union-attr]
    assert parse("publish web d1") == Operate("publish", "web", "d1")
    with pytest.raises(UsageError, match="does not take"):
        parse("stop web d1 --force why")


@pytest.mark.parametrize("text", ["web --force", 'web --force ""', "--force why"])
def test_force_without_a_reason_or_an_app_is_a_usage_error(text: str) -> None:
    with pytest.raises(UsageError) as error:
        parse(text)
    assert error.value.usage == USAGE["force"]


def test_a_reason_typed_in_a_form_is_checked_like_a_lock_reason() -> None:
    assert reason_problem("checkout errors") is None
    assert reason_problem("   ") == "Say why, in a few words."
    assert reason_problem("x" * 301) == "Keep the reason under 300 characters."
    assert reason_problem("bell\a") == "The reason has characters I can't show."
