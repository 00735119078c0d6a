"""Secrets: no token, key or logged secret reaches Slack, a log line, the store or an error."""

from __future__ import annotations

import contextlib
import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy import text as sql

from bot import config as configuration
from bot.config import ConfigError
from bot.config.secrets import secrets_of
from bot.config.settings import Settings
from bot.logs import setup_logging
from bot.providers.base import ProviderError
from bot.providers.nometria import Nometria
from bot.providers.stormkit import Stormkit
from bot.redact import MASK
from tests.conftest import (
    BOT_TOKEN,
    ENVIRON,
    NOMETRIA_KEY,
    SECRET_KEY,
    SIGNING_SECRET,
    STORMKIT_KEY,
    World,
    eventually,
)

CHANNEL = "C0DEPLOYS"
CONFIGURED = {
    "Slack bot token": BOT_TOKEN,
    "Slack signing secret": SIGNING_SECRET,
    "Nometria key": NOMETRIA_KEY,
    "Stormkit key": STORMKIT_KEY,
    "key that seals overrides": SECRET_KEY,
}
SECRETS = CONFIGURED | {
    "Stripe key in Nometria's build log": "sk_live_abc123",
    "AWS key in Stormkit's build log": "abcd1234secret",
}
CHATTY = ("apscheduler", "httpx", "httpcore", "slack_sdk", "slack_bolt", "aiohttp", "sqlalchemy")


@contextlib.contextmanager
def bot_logging(secrets: list[str]) -> Iterator[io.StringIO]:
    """The bot's own logging (`setup_logging`, as `deploybot serve` does), at DEBUG everywhere.

    Its output is returned; pytest's handlers stay in front of it, so caplog sees each record
    as it was logged, before the bot's filter masks it.
    """
    root = logging.getLogger()
    saved, level = root.handlers[:], root.level
    levels = {name: logging.getLogger(name).level for name in CHATTY}
    root.handlers = []
    try:
        setup_logging(secrets, level=logging.DEBUG)
        [handler] = root.handlers
        output = io.StringIO()
        handler.setStream(output)  # type: ignore[attr-defined]
        root.handlers = [*saved, handler]
        for name in CHATTY:
            logging.getLogger(name).setLevel(logging.DEBUG)
        yield output
    finally:
        root.handlers, root.level = saved, level
        for name, was in levels.items():
            logging.getLogger(name).setLevel(was)


async def _failed_thread(world: World, text: str, ticks: int) -> str:
    """Deploy, let the build fail, and return the thread's text once it says so."""
    before = len(world.slack.root_messages(CHANNEL))
    await world.driver.command(text, channel=CHANNEL)
    [root] = await eventually(lambda: world.slack.root_messages(CHANNEL)[before:])
    await eventually(lambda: "Started" in world.last_reply(CHANNEL, root.ts))
    for _ in range(ticks):
        await world.tick()
    await eventually(lambda: "failed" in world.last_reply(CHANNEL, root.ts))
    return "\n".join(world.slack.texts_in_thread(CHANNEL, root.ts))


async def _store_text(world: World) -> str:
    """Everything the store keeps that came from a person, a provider or an error."""
    queries = (
        "SELECT text, blocks FROM outbox",
        "SELECT detail FROM audit",
        "SELECT ref, env FROM deployments",
        "SELECT reason FROM locks",
    )
    async with world.runtime.db.engine.connect() as conn:
        rows = [row for query in queries for row in (await conn.execute(sql(query))).all()]
    return json.dumps([[str(v) for v in row] for row in rows], ensure_ascii=False)


def _slack_text(world: World, answers: dict[str, str]) -> str:
    """Web API call arguments (not headers), response_url posts, ephemerals, messages, acks."""
    parts: list[Any] = [call.args for call in world.slack.calls]
    parts += list(world.slack.responses.values())
    parts += [[e.text, e.blocks] for e in world.slack.ephemerals]
    parts += [m.history for ms in world.slack.messages.values() for m in ms]
    parts += list(answers.values())
    return json.dumps(parts, ensure_ascii=False)


def _leaks(places: dict[str, str]) -> list[str]:
    return [
        f"{secret_name} in {place}"
        for place, text in places.items()
        for secret_name, secret in SECRETS.items()
        if secret in text
    ]


async def test_no_secret_reaches_slack_the_logs_or_the_store(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    """Failed builds, key-quoting errors, status and logs: every secret is masked everywhere."""
    assert set(secrets_of(world.runtime.config)) == set(CONFIGURED.values())
    caplog.set_level(logging.DEBUG)
    answers: dict[str, str] = {}
    with bot_logging(secrets_of(world.runtime.config)) as bot_log:
        world.nometria.fail_next()
        nometria_thread = await _failed_thread(world, "web", ticks=3)
        world.stormkit.fail_next()
        stormkit_thread = await _failed_thread(world, "docs", ticks=2)

        key_quoted = {"error": f"bad key {NOMETRIA_KEY}"}
        world.nometria.inject(400, key_quoted, path_contains="/v1/deployments", method="POST")
        answers["web"] = await world.ask("web")
        world.stormkit.inject(400, {"errors": [f"invalid token {STORMKIT_KEY}"]}, method="POST")
        answers["docs"] = await world.ask("docs")
        world.nometria.inject(404, {"error": {"message": f"no such key {NOMETRIA_KEY}"}})
        answers["logs web dep_nope"] = await world.ask("logs web dep_nope")

        for app, fake in (("web", world.nometria), ("docs", world.stormkit)):
            answers[f"status {app}"] = await world.ask(f"status {app}")
            failed = next(iter(fake.deployments))  # the first one built, and failed
            answers[f"logs {app}"] = await world.ask(f"logs {app} {failed}")
        await world.runtime.door.drain()
        await world.runtime.outbox.idle()
    emitted = bot_log.getvalue()

    # the masks are there: each secret was met, and hidden
    assert f"STRIPE_SECRET_KEY={MASK}" in nometria_thread
    assert f"AWS_SECRET_ACCESS_KEY={MASK}" in stormkit_thread
    assert f"bad key {MASK}" in answers["web"]
    assert f"invalid token {MASK}" in answers["docs"]
    assert f"no such key {MASK}" in answers["logs web dep_nope"]
    assert f"STRIPE_SECRET_KEY={MASK}" in answers["logs web"]
    assert f"AWS_SECRET_ACCESS_KEY={MASK}" in answers["logs docs"]
    assert f"bad key {MASK}" in emitted
    assert "chat.postMessage" in caplog.text  # slack_sdk's DEBUG lines were heard too

    assert (
        _leaks(
            {
                "Slack": _slack_text(world, answers),
                "the bot's log output": emitted,
                "the log records as logged (caplog)": caplog.text,
                "the store": await _store_text(world),
            }
        )
        == []
    )


# -------------------------------------------------------------------- configuration and errors


def test_settings_and_config_never_show_their_secrets(tmp_path: Path) -> None:
    """repr() and str() of Settings and Config show SecretStr masks, never a value."""
    apps = tmp_path / "deploybot.toml"
    apps.write_text(
        '[apps.web]\nprovider = "nometria"\nproject_id = "p"\n'
        '[apps.docs]\nprovider = "stormkit"\nenv_id = "305"\n',
        encoding="utf-8",
    )
    settings = Settings(
        slack_bot_token=SecretStr(BOT_TOKEN),
        slack_signing_secret=SecretStr(SIGNING_SECRET),
        slack_app_token=SecretStr("xapp-1-A0-secret-app-token"),
        deploybot_config=apps,
    )
    config = configuration.load(settings, environ=ENVIRON)
    shown = [repr(settings), str(settings), repr(config), str(config), f"{config!r:}"]
    shown += [repr(config.api_keys), str(config.model_dump())]
    for text in shown:
        for secret in [*CONFIGURED.values(), "xapp-1-A0-secret-app-token"]:
            assert secret not in text
    assert "**********" in repr(config)


@pytest.mark.parametrize(
    "app",
    [
        f'[apps.web]\nprovider = "nometria"\nproject_id = "p"\napi_key = "{NOMETRIA_KEY}"\n',
        f'[apps.web]\nprovider = "nometria"\nproject_id = "p"\napi_key = {NOMETRIA_KEY}\n',
        f'[apps.web]\nprovider = "nometria"\nproject_id = "p"\napproval = "{NOMETRIA_KEY}"\n',
        f'[apps.web]\nprovider = "{NOMETRIA_KEY}"\nproject_id = "p"\n',
        f'[apps.web]\nprovider = "nometria"\nproject_id = ["{NOMETRIA_KEY}"]\n',
    ],
)
def test_a_config_error_never_quotes_a_key_pasted_into_the_apps_file(
    tmp_path: Path, app: str
) -> None:
    """A key pasted where it does not belong: the error names the file and key, not the value."""
    apps = tmp_path / "deploybot.toml"
    apps.write_text(app, encoding="utf-8")
    with pytest.raises(ConfigError) as raised:
        configuration.load(Settings(deploybot_config=apps), environ=ENVIRON)
    assert str(apps) in str(raised.value)
    assert NOMETRIA_KEY not in str(raised.value)
    assert NOMETRIA_KEY not in repr(raised.value)


def _answering(status: int, body: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.MockTransport(lambda _: httpx.Response(status, json=body))
    )


def _nometria(client: httpx.AsyncClient, key: str) -> Nometria:
    return Nometria(client, base_url="http://nometria.test", api_key=key, project_id="p")


def _stormkit(client: httpx.AsyncClient, key: str) -> Stormkit:
    return Stormkit(client, base_url="http://stormkit.test", api_key=key, env_id="305")


@pytest.mark.parametrize(
    ("build", "status", "body"),
    [
        (_nometria, 400, {"error": "bad key {key}"}),
        (_nometria, 401, {"error": {"code": "unauthorized", "message": "key {key} is revoked"}}),
        (_nometria, 422, {"error": {"code": "invalid", "message": "Authorization: {key}"}}),
        (_stormkit, 400, {"error": "bad key {key}"}),
        (_stormkit, 400, {"errors": {"Authorization": "Bearer {key} is not valid"}}),
        (_stormkit, 402, {"errors": ["no minutes left for {key}"]}),
    ],
)
async def test_a_provider_error_never_quotes_the_key(
    build: Any, status: int, body: dict[str, Any]
) -> None:
    """Whatever the error body says about the key, the ProviderError does not repeat it."""
    key = "live-key-4f9a2c77e0b1"
    quoted = json.loads(json.dumps(body).replace("{key}", key))
    async with _answering(status, quoted) as client:
        with pytest.raises(ProviderError) as raised:
            await build(client, key).trigger(ref=None, env_vars={}, publish=True)
    error = raised.value
    assert MASK in str(error)  # the provider's words are shown, with the key masked
    for text in (str(error), repr(error), *map(str, error.args)):
        assert key not in text
    assert error.__cause__ is None
