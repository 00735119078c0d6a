"""How the console wires `serve`'s pieces to itself: the settings pointed at ConsoleSlack, and
the web apps (the console's Slack, the bot's events) served on free local ports."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web
from pydantic import SecretStr

from bot.config.settings import Settings
from bot.console.world import EXAMPLE


def console_settings(settings: Settings, workdir: Path, *, secret: str, slack_url: str) -> Settings:
    """`serve`'s settings, pointed at the console; the operator's own values win."""
    given = settings.model_fields_set
    config = settings.deploybot_config
    if "deploybot_config" not in given:  # a deploybot.toml lying here is not reason enough
        config = workdir / "deploybot.toml"
        config.write_text(EXAMPLE, encoding="utf-8")
    update: dict[str, object] = {
        "slack_bot_token": SecretStr("xoxb-console"),
        "slack_signing_secret": SecretStr(secret),
        "slack_app_token": None,
        "slack_api_url": f"{slack_url}/api/",
        "deploybot_config": config,
    }
    if "deploybot_database_url" not in given:
        update["deploybot_database_url"] = f"sqlite:///{workdir / 'console.db'}"
    if "deploybot_poll_interval" not in given:
        update["deploybot_poll_interval"] = 1.0
    if "deploybot_channel_pace" not in given:
        update["deploybot_channel_pace"] = 0.1
    return settings.model_copy(update=update)


async def serve(app: web.Application) -> web.AppRunner:
    """`app` on a free port of 127.0.0.1, until its runner is cleaned up."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    return runner


def url(runner: web.AppRunner) -> str:
    """Where a runner `serve` started listens."""
    host, port = runner.addresses[0][:2]
    return f"http://{host}:{port}"
