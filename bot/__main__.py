"""CLI: serve, console, migrate, check. Reads the settings, says every problem in them, and
hands the rest to the runtime (bot/runtime/)."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import NoReturn

import click
from pydantic import ValidationError

from bot import migrations
from bot.config import ConfigError, preflight
from bot.config.secrets import secrets_of
from bot.config.settings import Settings
from bot.config.words import describe_error
from bot.logs import human_retries, setup_logging
from bot.migrations import open_store
from bot.runtime.check import check_each_part
from bot.runtime.serve import serve_until_stopped
from bot.runtime.slack import token_refused


def _fail(message: str) -> NoReturn:
    _problems(message.splitlines())
    sys.exit(1)


def _problems(lines: list[str]) -> None:
    """Every problem at once, one a line, on stderr."""
    if len(lines) == 1:
        click.echo(f"deploybot: {lines[0]}", err=True)
        return
    click.echo(f"deploybot: {len(lines)} problems to fix:", err=True)
    for line in lines:
        click.echo(f"  {line}", err=True)


APPS_FILE = click.option(
    "--config",
    "apps_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The apps file (default: DEPLOYBOT_CONFIG, or deploybot.toml here).",
)


@click.group()
@click.version_option(
    package_name="deploybot", prog_name="deploybot", message="%(prog)s %(version)s"
)
def cli() -> None:
    """deploybot: trigger, approve, publish, watch and roll back deployments from Slack."""
    human_retries()


@cli.command()
@APPS_FILE
def serve(apps_file: Path | None) -> None:
    """Run the bot: Slack over HTTP on $PORT (or Socket Mode) with /healthz; /metrics apart."""
    setup = preflight.read(apps_file)
    if setup.config is None or setup.slack:
        token_said = any("SLACK_BOT_TOKEN" in line for line in setup.slack)
        refused = [] if token_said else asyncio.run(token_refused(setup.settings))
        _fail("\n".join(setup.every_problem + refused))
    config = setup.config
    redact = setup_logging(secrets_of(config))
    try:
        asyncio.run(serve_until_stopped(config, redact))
    except ConfigError as exc:  # found while building the pieces (a provider's settings)
        _fail(str(exc))


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
@click.option(
    "--yes", is_flag=True, help="Drop tables that hold rows without asking (for scripts)."
)
def migrate(target: str | None, yes: bool) -> None:
    """Upgrade the store (DEPLOYBOT_DATABASE_URL) to this deploybot's schema, then exit.

    `serve` does this by itself at start; run it by hand to upgrade before starting replicas,
    or with --to to undo a newer version's upgrade before going back to an older deploybot.
    Moving back drops the tables the older schema has not: asked first if they hold rows.
    """
    try:
        settings = Settings()
    except ValidationError as exc:
        _fail(describe_error(exc))
    try:
        lost = asyncio.run(_rows_lost(settings, target)) if target else {}
        if lost and not yes:
            _confirm_drop(target or "", lost)
        click.echo(asyncio.run(_migrate(settings, target)))
    except (ConfigError, migrations.SchemaError) as exc:
        _fail(str(exc))


def _confirm_drop(target: str, lost: dict[str, int]) -> None:
    """Asked at a terminal; refused without one: a script says --yes."""
    tables = ", ".join(f"{name} ({_plural(rows, 'row')})" for name, rows in lost.items())
    said = (
        f"moving the store back to schema {target} drops {_plural(len(lost), 'table')} "
        f"holding rows: {tables}"
    )
    if not sys.stdin.isatty():
        _fail(f"{said}. Nothing changed: run it at a terminal to be asked, or add --yes")
    if not click.confirm(f"deploybot: {said}. Drop them?", default=False):
        _fail("nothing changed")


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


async def _rows_lost(settings: Settings, target: str) -> dict[str, int]:
    store = await open_store(settings, create=False)
    try:
        return await migrations.rows_lost(store, to=target)
    finally:
        await store.close()


async def _migrate(settings: Settings, target: str | None) -> str:
    store = await open_store(settings, create=False)
    try:
        return str(await migrations.upgrade(store, to=target))
    finally:
        await store.close()


@cli.command()
@APPS_FILE
def check(apps_file: Path | None) -> None:
    """Say every problem in the settings; list the apps and test each key, Slack and the store."""
    setup = preflight.read(apps_file)
    if setup.problems:
        _problems(setup.problems)
    failures = asyncio.run(check_each_part(setup, click.echo))
    sys.exit(1 if failures or setup.problems else 0)


def main() -> None:
    cli()


if __name__ == "__main__":
    main()
