"""`KEY=VALUE` overrides: the thread and the audit name the keys, never the values; a key given
twice is an error; the sandbox takes them, so the console shows them."""

from __future__ import annotations

import pexpect

from tests.conftest import World, eventually
from tests.console.test_console import console  # noqa: F401 - the fixture

CHANNEL = "C0DEPLOYS"


async def test_the_thread_and_the_audit_name_the_overridden_keys(world: World) -> None:
    await world.driver.command("web a1b2c3d FEATURE=on API_TOKEN=s3cr3t-v4lue", channel=CHANNEL)
    [trigger] = await eventually(lambda: world.nometria.requests_to("POST", "/v1/deployments"))
    assert trigger.json["env_vars"] == {"FEATURE": "on", "API_TOKEN": "s3cr3t-v4lue"}
    [root] = world.slack.root_messages(CHANNEL)
    said = "Overridden for this deploy: `FEATURE`, `API_TOKEN` (values are not shown)."
    await eventually(lambda: said in world.last_reply(CHANNEL, root.ts))
    await world.runtime.door.drain()
    [entry] = await world.runtime.store.audit.recent("web")
    assert entry.detail == "overrides: FEATURE, API_TOKEN"
    for call in world.slack.calls:
        assert "s3cr3t" not in str(call)


async def test_an_approval_prompt_names_the_overridden_keys(world: World) -> None:
    await world.driver.command("shop FEATURE=on", channel=CHANNEL)
    [root] = await eventually(lambda: world.slack.root_messages(CHANNEL))
    await eventually(
        lambda: "Overridden for this deploy: `FEATURE`" in world.last_reply(CHANNEL, root.ts)
    )
    await world.runtime.door.drain()
    [entry] = await world.runtime.store.audit.recent("shop")
    assert entry.detail == "waiting for approval; overrides: FEATURE"


async def test_a_key_given_twice_is_an_error(world: World) -> None:
    answer = await world.ask("web FOO=bar FOO=baz")
    assert "Give each override once: `FOO` is given twice." in answer
    assert world.nometria.requests == []
    assert world.slack.calls_to("chat.postMessage") == []


async def test_a_value_with_spaces_is_given_between_quotes(world: World) -> None:
    """`KEY="a b"` is one override, as quotes work for a reason; the reason after `--force`
    stays free text (an apostrophe is no quote there)."""
    await world.driver.command(
        "web a1b2c3d GREETING=\"hello there\" NOTE='it works' PATH_LIKE=C:\\dir#1",
        channel=CHANNEL,
    )
    [trigger] = await eventually(lambda: world.nometria.requests_to("POST", "/v1/deployments"))
    assert trigger.json["env_vars"] == {
        "GREETING": "hello there",
        "NOTE": "it works",
        "PATH_LIKE": "C:\\dir#1",
    }


async def test_an_open_quote_or_a_bad_key_says_what_to_type(world: World) -> None:
    """Nothing is sent; the answer says what a good override looks like, and its usage once."""
    unclosed = await world.ask('web FOO="a b')
    assert 'A quote is not closed. Put a value with spaces between two quotes: `KEY="a b"`.' in (
        unclosed
    )
    bad_key = await world.ask("web lower-case=1")
    assert "An override's name is letters, digits and `_`, not starting with a digit" in bad_key
    assert "`LOG_LEVEL=debug`" in bad_key
    assert "`lower-case` is not one." in bad_key
    for answer in (unclosed, bad_key):
        assert answer.count("/deploy <app> [ref] [KEY=VALUE ...]") == 1
    assert world.nometria.requests == []
    assert world.slack.calls_to("chat.postMessage") == []


def test_the_console_shows_the_overridden_keys(console: pexpect.spawn) -> None:  # noqa: F811
    """The sandbox takes overrides (it refused them before), so the console can show them."""
    console.sendline("/deploy web FEATURE=on")
    console.expect("Overridden for this deploy: `FEATURE`")
