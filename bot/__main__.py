"""CLI: serve, check. Builds the pieces, wires them, starts them."""

from __future__ import annotations

import asyncio
import logging
import sys
from typing import NoReturn

import click
from aiohttp import web
from pydantic import ValidationError

from bot import config as configuration
from bot.config import Config, ConfigError, Settings
from bot.logs import setup_logging
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
    """Run the bot: HTTP on $PORT, /slack/events, /healthz."""
    config = _load()
    settings = config.settings
    if settings.slack_bot_token is None:
        _fail("environment: SLACK_BOT_TOKEN is not set (the bot token, xoxb-...)")
    if settings.slack_signing_secret is None:
        _fail("environment: SLACK_SIGNING_SECRET is not set (needed to verify Slack's requests)")
    setup_logging(secrets_of(config))
    asyncio.run(_serve(config))


async def _serve(config: Config) -> None:
    runtime = await Runtime.start(config)
    runner = web.AppRunner(runtime.web_app())
    await runner.setup()
    site = web.TCPSite(runner, port=config.settings.port)
    await site.start()
    log.info("deploybot listening on :%s with %d apps", config.settings.port, len(config.apps))
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()
        await runtime.stop()


@cli.command()
def check() -> None:
    """Load the configuration and say what is wrong, or list the apps."""
    config = _load()
    for name, app in sorted(config.apps.items()):
        click.echo(f"{name}: {app.provider}{' (approval)' if app.approval else ''}")


def main() -> None:
    cli()


if __name__ == "__main__":
    main()
