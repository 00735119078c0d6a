"""A refusal reads like a sentence someone wrote: it starts with a capital and ends with a
stop, even where the provider's own words do not, and says its usage line once."""

from __future__ import annotations

from tests.conftest import World


async def test_a_providers_words_are_said_as_a_sentence(world: World) -> None:
    """Nometria's "no stop" (lower case after the name, no stop at the end) is finished."""
    answer = await world.ask("stop web dep_1", user="U0LEAD")
    assert answer == (
        ":warning: Nometria has no stop: a deployment cannot be stopped once triggered."
    )
    assert world.nometria.requests == []


async def test_a_too_long_command_says_its_length_once(world: World) -> None:
    answer = await world.ask("x" * 1498)
    assert answer.startswith(":warning: That command is 1,498 characters long; the limit is 1,000.")
    assert answer.count("characters") == 1
    assert answer.count("Usage:") == 1
