"""KEY=VALUE override values: sealed in the store while a deploy waits, gone once it is
triggered, and masked wherever they would be said or logged (a build log, a provider's error)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.fernet import Fernet
from sqlalchemy import text as sql

from bot.redact import MASK
from bot.render import blocks
from bot.sealed import Sealer, Unreadable
from tests.conftest import SIGNING_SECRET, World, eventually, write_apps
from tests.processes import start_bot
from tests.slack_client import SlackDriver
from tests.test_web import exits

CHANNEL = "C0DEPLOYS"
VALUE = "s3cret-h0rse"  # FOO: a name no shape-based rule would mask


async def _stored_env(world: World) -> list[str]:
    """The `env` column of every deployment row, read from the database itself."""
    async with world.runtime.db.engine.connect() as conn:
        rows = (await conn.execute(sql("SELECT env FROM deployments ORDER BY id"))).all()
    return [str(row[0]) for row in rows]


async def _root(world: World, text: str) -> str:
    before = len(world.slack.root_messages(CHANNEL))
    await world.driver.command(text, user="U0DEV", channel=CHANNEL)
    [root, *_] = await eventually(lambda: world.slack.root_messages(CHANNEL)[before:])
    await eventually(lambda: world.slack.thread(CHANNEL, root.ts))
    return str(root.ts)


def _says(world: World, root: str, text: str) -> bool:
    return any(text in said for said in world.slack.texts_in_thread(CHANNEL, root))


def _said_anywhere(world: World) -> str:
    parts: list[Any] = [call.args for call in world.slack.calls]
    parts += list(world.slack.responses.values())
    parts += [[e.text, e.blocks] for e in world.slack.ephemerals]
    return json.dumps(parts, ensure_ascii=False)


async def _fails_and_says_why(world: World, root: str) -> str:
    for _ in range(3):
        await world.tick()
    await eventually(lambda: "failed" in world.last_reply(CHANNEL, root))
    return "\n".join(world.slack.texts_in_thread(CHANNEL, root))


async def test_an_override_waiting_for_approval_is_sealed_sent_then_dropped(world: World) -> None:
    world.nometria.fail_next()  # its build prints its environment, FOO included
    root = await _root(world, f"shop a1b2c3d FOO={VALUE}")
    [stored] = await _stored_env(world)
    assert VALUE not in stored
    assert json.loads(stored)["FOO"].startswith("fernet:")
    assert world.nometria.requests_to("POST", "/v1/deployments") == []  # nothing triggered

    prompt = next(
        m.ts for m in world.slack.thread(CHANNEL, root) if blocks.APPROVE in str(m.blocks)
    )
    await world.driver.click(blocks.APPROVE, message_ts=prompt, user="U0LEAD", channel=CHANNEL)
    [trigger] = await eventually(lambda: world.nometria.requests_to("POST", "/v1/deployments"))
    assert trigger.json["env_vars"] == {"FOO": VALUE}
    await eventually(lambda: _says(world, root, "Started"))
    assert await _stored_env(world) == ["{}"]  # triggered: the store keeps it no longer

    thread = await _fails_and_says_why(world, root)
    assert f"FOO={MASK}" in thread  # the excerpt shows the build environment, masked
    assert VALUE not in _said_anywhere(world)


async def test_an_override_waiting_in_line_is_sealed_sent_then_dropped(world: World) -> None:
    world.nometria.fail_next(2)  # the first fails (its turn ends), then the second
    first = await _root(world, "web a1b2c3d")
    await eventually(lambda: _says(world, first, "Started"))
    second = await _root(world, f"web b2c3d4e FOO={VALUE}")
    await eventually(lambda: "waits its turn" in world.last_reply(CHANNEL, second))
    stored = await _stored_env(world)
    assert VALUE not in stored[1]
    assert json.loads(stored[1])["FOO"].startswith("fernet:")

    await _fails_and_says_why(world, first)
    await world.tick()  # its turn
    triggers = await eventually(lambda: world.nometria.requests_to("POST", "/v1/deployments")[1:])
    assert triggers[0].json["env_vars"] == {"FOO": VALUE}
    assert (await _stored_env(world))[1] == "{}"
    thread = await _fails_and_says_why(world, second)
    assert f"FOO={MASK}" in thread
    assert VALUE not in _said_anywhere(world)


@pytest.mark.parametrize("settings_extra", [{"deploybot_secret_key": None}])
async def test_without_a_key_a_deploy_that_would_wait_takes_no_overrides(world: World) -> None:
    """Values that live only in this process would be lost in a restart: refused up front."""
    told = await world.ask(f"shop FOO={VALUE}")
    assert "waits for an approver" in told
    assert "DEPLOYBOT_SECRET_KEY" in told
    assert await _stored_env(world) == []

    root = await _root(world, f"web FOO={VALUE}")  # free: triggered at once, overrides and all
    [trigger] = await eventually(lambda: world.nometria.requests_to("POST", "/v1/deployments"))
    assert trigger.json["env_vars"] == {"FOO": VALUE}
    await eventually(lambda: _says(world, root, "Started"))
    told = await world.ask(f"web FOO={VALUE}")
    assert "is deploying, so this one would wait" in told
    assert "deploy again when web is free" in told
    assert await _stored_env(world) == ["{}"]
    assert len(world.nometria.requests_to("POST", "/v1/deployments")) == 1
    assert VALUE not in _said_anywhere(world)


async def test_a_provider_error_quoting_a_value_is_masked_in_slack_and_the_log(
    tmp_path: Path, served_fakes: Any
) -> None:
    """`deploybot serve` as it runs: the provider refuses the trigger quoting the value; the
    person is told, the thread says so, the log line is written, none of them with it."""
    _, slack, nometria, _, servers = served_fakes
    quoted = {"error": {"code": "invalid_request", "message": f"env_vars.FOO: {VALUE} is bad"}}
    nometria.inject(422, quoted, path_contains="/v1/deployments", method="POST")
    bot = await start_bot(
        tmp_path,
        name="bot",
        apps=write_apps(tmp_path, servers),
        slack_url=servers["slack"].url,
        database_url=f"sqlite:///{tmp_path / 'db.sqlite'}",
    )
    try:
        async with httpx.AsyncClient() as http:
            driver = SlackDriver(bot.url, SIGNING_SECRET, slack, http)
            await driver.command(f"web FOO={VALUE}", user="U0DEV", channel=CHANNEL)
            await eventually(lambda: nometria.requests_to("POST", "/v1/deployments"))
            await eventually(lambda: "Could not start" in str([c.args for c in slack.calls]))
            await eventually(lambda: slack.responses)
            await eventually(lambda: "Could not start" in bot.output() or "failed" in bot.output())
    finally:
        await bot.stop()
    said = json.dumps(
        [[c.args for c in slack.calls], list(slack.responses.values())], ensure_ascii=False
    )
    assert "is bad" in said  # the provider's words reach the person
    assert VALUE not in said
    assert "is bad" in bot.output()
    assert VALUE not in bot.output()


def test_a_seal_opens_with_its_keys_only() -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    sealed = Sealer(old).seal({"FOO": VALUE})
    assert VALUE not in str(sealed)
    assert Sealer(f"{new},{old}").open(sealed) == {"FOO": VALUE}  # a key rotated in
    with pytest.raises(Unreadable, match="cannot be read here"):
        Sealer(new).open(sealed)
    with pytest.raises(Unreadable):
        Sealer().open(Sealer().seal({"FOO": VALUE}))  # each process's own key dies with it
    assert not Sealer().lasting
    assert Sealer(old).lasting


@pytest.mark.slow
async def test_a_bad_secret_key_stops_serve_in_one_line_without_echoing_it(
    tmp_path: Path,
) -> None:
    out = await exits(tmp_path, DEPLOYBOT_SECRET_KEY="hunter2-not-a-fernet-key")
    [line] = out.splitlines()
    assert line.startswith(
        "deploybot: environment: DEPLOYBOT_SECRET_KEY: is not a Fernet key (32 bytes in "
        "URL-safe base64); make one with: python -c"
    )
    assert "hunter2" not in out


async def test_a_deploy_whose_overrides_cannot_be_opened_is_not_sent_without_them(
    world: World,
) -> None:
    """Its turn comes on a replica with another key: it does not start, and says why."""
    first = await _root(world, "web a1b2c3d")
    await eventually(lambda: _says(world, first, "Started"))
    second = await _root(world, f"web b2c3d4e FOO={VALUE}")
    await eventually(lambda: "waits its turn" in world.last_reply(CHANNEL, second))
    world.runtime.store._sealer = Sealer(Fernet.generate_key().decode())  # another replica's

    for _ in range(4):
        await world.tick()
    await eventually(lambda: _says(world, second, "cannot be read here"))
    assert len(world.nometria.requests_to("POST", "/v1/deployments")) == 1  # the first only
    assert (await _stored_env(world))[1] == "{}"  # it ended: nothing kept
