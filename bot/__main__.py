"""CLI: serve, check. Builds the pieces, wires them, starts them."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
from pathlib import Path
from typing import NoReturn

import click
from aiohttp import web
from pydantic import ValidationError
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

from bot import config as configuration
from bot import migrations, providers
from bot.config import Config, ConfigError, Settings
from bot.config_words import describe_error
from bot.logs import human_retries, setup_logging
from bot.providers import http as provider_http
from bot.providers.base import ProviderError
from bot.runtime import (
    BadToken,
    Runtime,
    SlackUnreachable,
    open_store,
    secrets_of,
    slack_client,
    verify_token,
)

log = logging.getLogger("bot")
SLACK_RETRY = 5.0  # seconds between tries while Slack does not answer at start


def _fail(message: str) -> NoReturn:
    lines = message.splitlines()
    if len(lines) > 1:  # every problem at once, one a line
        click.echo(f"deploybot: {len(lines)} problems to fix:", err=True)
        message = "\n".join(f"  {line}" for line in lines)
    click.echo(f"deploybot: {message}" if len(lines) == 1 else message, err=True)
    sys.exit(1)


def _load() -> Config:
    try:
        return configuration.load(Settings())
    except ValidationError as exc:
        _fail(describe_error(exc))
    except ConfigError as exc:
        _fail(str(exc))


@click.group()
def cli() -> None:
    """deploybot: trigger, approve, publish, watch and roll back deployments from Slack."""
    human_retries()


@cli.command()
def serve() -> None:
    """Run the bot: Slack over HTTP on $PORT (or Socket Mode), /healthz and /metrics."""
    config = _load()
    settings = config.settings
    if settings.slack_bot_token is None:
        _fail("environment: SLACK_BOT_TOKEN is not set (the bot token, xoxb-...)")
    if settings.slack_app_token is None and settings.slack_signing_secret is None:
        _fail(
            "environment: SLACK_SIGNING_SECRET is not set (needed to verify Slack's requests; "
            "or set SLACK_APP_TOKEN for Socket Mode)"
        )
    setup_logging(secrets_of(config))
    try:
        asyncio.run(_serve(config))
    except ConfigError as exc:  # found while building the pieces (a provider's settings)
        _fail(str(exc))


async def _serve(config: Config) -> None:
    settings = config.settings
    runtime = await Runtime.start(config)
    runner = web.AppRunner(runtime.web_app())
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stopping.set)
    socket_mode = None
    try:
        await runner.setup()
        await web.TCPSite(runner, port=settings.port).start()
        if not await _slack_ready(runtime, stopping):
            return
        if settings.slack_app_token is not None:
            socket_mode = AsyncSocketModeHandler(
                runtime.bolt, settings.slack_app_token.get_secret_value()
            )
            await socket_mode.connect_async()  # type: ignore[no-untyped-call]
        mode = "Socket Mode" if socket_mode else "HTTP at /slack/events"
        apps = _plural(len(config.apps), "app")
        log.info("deploybot serving %s: %s, port %s", apps, mode, settings.port)
        await stopping.wait()
        log.info("deploybot stopping: finishing what was acknowledged")
    finally:
        if socket_mode is not None:
            await socket_mode.close_async()  # type: ignore[no-untyped-call]
        await runner.cleanup()
        await runtime.stop()


async def _slack_ready(runtime: Runtime, stopping: asyncio.Event) -> bool:
    """Wait until Slack takes the token; ConfigError if it refuses it, False if stopped first."""
    unreachable = False
    while not stopping.is_set():
        try:
            who = await verify_token(runtime.slack)
        except BadToken as exc:
            raise ConfigError(str(exc)) from None
        except SlackUnreachable as exc:
            if not unreachable:  # once: a line every few seconds would bury the rest
                log.warning("%s; trying again every %ss until it does", exc, SLACK_RETRY)
                unreachable = True
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), SLACK_RETRY)
            continue
        log.info("Slack answers: the bot is %s", who)
        return True
    return False


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


@cli.command()
@click.option(
    "--config",
    "apps_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="An apps file to use instead of the built-in sandbox example (or DEPLOYBOT_CONFIG).",
)
def console(apps_file: Path | None) -> None:
    """The whole bot in this terminal: no Slack workspace, no keys (the sandbox platform)."""
    try:
        settings = Settings() if apps_file is None else Settings(deploybot_config=apps_file)
    except ValidationError as exc:
        _fail(describe_error(exc))
    try:
        from bot.console import main as run_console  # noqa: PLC0415 - only this command needs it

        run_console(settings)
    except ConfigError as exc:
        _fail(str(exc))
    except KeyboardInterrupt:
        click.echo("")  # leave the prompt's line


@cli.command()
@click.option(
    "--to",
    "target",
    metavar="SCHEMA",
    help="Move the store to this schema (e.g. 0001), down as well as up; default: this "
    "deploybot's newest.",
)
def migrate(target: str | None) -> None:
    """Upgrade the store (DEPLOYBOT_DATABASE_URL) to this deploybot's schema, then exit.

    `serve` does this by itself at start; run it by hand to upgrade before starting replicas,
    or with --to to undo a newer version's upgrade before going back to an older deploybot.
    """
    try:
        settings = Settings()
    except ValidationError as exc:
        _fail(describe_error(exc))
    try:
        click.echo(asyncio.run(_migrate(settings, target)))
    except (ConfigError, migrations.SchemaError) as exc:
        _fail(str(exc))


async def _migrate(settings: Settings, target: str | None) -> str:
    store = await open_store(settings, create=False)
    try:
        return str(await migrations.upgrade(store, to=target))
    finally:
        await store.close()


@cli.command()
def check() -> None:
    """Load the configuration and say what is wrong, or list the apps and test each key."""
    config = _load()
    failures = asyncio.run(_check(config))
    sys.exit(1 if failures else 0)


async def _check(config: Config) -> int:
    failures = 0
    async with provider_http.client() as http:
        adapters = providers.build_all(config, http)
        for name, app in sorted(config.apps.items()):
            rules = "approval by " + ", ".join(app.approvers) if app.approval else "no approval"
            try:
                await adapters[name].history(limit=1)
                key = "key works"
            except ProviderError as exc:
                failures += 1
                key = f"PROBLEM: {exc}"
            click.echo(f"{name}: {app.provider}, {rules}; {key}")
            if app.sole_approver is not None:
                click.echo(
                    f"{name}: WARNING: {app.sole_approver} is its only approver and may deploy it, "
                    "but cannot approve their own deployment: add a second approver to "
                    "`approvers`, or set `allow_self_approval = true`"
                )
    for line in (await _check_slack(config.settings), await _check_store(config.settings)):
        failures += "PROBLEM" in line
        click.echo(line)
    return failures


async def _check_slack(settings: Settings) -> str:
    if settings.slack_bot_token is None:
        return "slack: PROBLEM: SLACK_BOT_TOKEN is not set (the bot token, xoxb-...)"
    slack = slack_client(settings)
    try:
        return f"slack: token works (the bot is {await verify_token(slack)})"
    except (BadToken, SlackUnreachable) as exc:
        return f"slack: PROBLEM: {exc}"
    finally:
        if slack.session is not None:
            await slack.session.close()


async def _check_store(settings: Settings) -> str:
    try:
        store = await open_store(settings, create=False)
    except ConfigError as exc:
        return f"store: PROBLEM: {str(exc).removeprefix('environment: ')}"
    await store.close()
    return f"store: answers ({store.engine.url.render_as_string(hide_password=True)})"


def main() -> None:
    cli()


if __name__ == "__main__":
    main()
