"""CLI: serve, check. Builds the pieces, wires them, starts them."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from typing import NoReturn

import click
from aiohttp import web
from pydantic import ValidationError
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

from bot import config as configuration
from bot import providers
from bot.config import Config, ConfigError, Settings
from bot.logs import setup_logging
from bot.providers import http as provider_http
from bot.providers.base import ProviderError
from bot.runtime import Runtime, secrets_of

log = logging.getLogger("bot")


def _fail(message: str) -> NoReturn:
    click.echo(f"deploybot: {message}", err=True)
    sys.exit(1)


def _load() -> Config:
    try:
        return configuration.load(Settings())
    except ValidationError as exc:
        _fail(configuration.describe_error(exc))
    except ConfigError as exc:
        _fail(str(exc))


@click.group()
def cli() -> None:
    """deploybot: trigger, approve, publish, watch and roll back deployments from Slack."""


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
    await runner.setup()
    await web.TCPSite(runner, port=settings.port).start()
    socket_mode = None
    if settings.slack_app_token is not None:
        socket_mode = AsyncSocketModeHandler(
            runtime.bolt, settings.slack_app_token.get_secret_value()
        )
        await socket_mode.connect_async()  # type: ignore[no-untyped-call]
    mode = "Socket Mode" if socket_mode else "HTTP at /slack/events"
    log.info("deploybot serving %d apps: %s, port %s", len(config.apps), mode, settings.port)
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stopping.set)
    try:
        await stopping.wait()
        log.info("deploybot stopping: finishing what was acknowledged")
    finally:
        if socket_mode is not None:
            await socket_mode.close_async()  # type: ignore[no-untyped-call]
        await runner.cleanup()
        await runtime.stop()


@cli.command()
def console() -> None:
    """The whole bot in this terminal: no Slack workspace, no keys (the sandbox platform)."""
    try:
        settings = Settings()
    except ValidationError as exc:
        _fail(configuration.describe_error(exc))
    try:
        from bot.console import main as run_console  # noqa: PLC0415 - only this command needs it

        run_console(settings)
    except ConfigError as exc:
        _fail(str(exc))
    except KeyboardInterrupt:
        pass


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
    return failures


def main() -> None:
    cli()


if __name__ == "__main__":
    main()
