"""`deploybot serve` once its settings are read: Slack's requests on $PORT (or over Socket Mode
once Slack answers), /metrics on its own address, until SIGTERM or SIGINT; then a graceful stop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal

from aiohttp import web
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_sdk.web.async_client import AsyncWebClient

from bot.config import Config, ConfigError
from bot.redact import Redactor
from bot.runtime import Runtime
from bot.runtime.slack import BadToken, SlackUnreachable, verify_token
from bot.web import serve_metrics

log = logging.getLogger("bot")  # the name `serve`'s own lines have always had
SLACK_RETRY = 5.0  # seconds between tries while Slack does not answer at start


async def serve_until_stopped(config: Config, redact: Redactor) -> None:
    settings = config.settings
    runtime = await Runtime.start(config, redact=redact)
    runner = web.AppRunner(runtime.web_app())
    metrics = web.AppRunner(runtime.metrics_app(), access_log=None)
    stopping = asyncio.Event()
    signals: list[str] = []

    def stop(signum: signal.Signals) -> None:
        signals.append(signum.name)
        stopping.set()

    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop, signum)
    socket_mode = None
    try:
        await runner.setup()
        await web.TCPSite(runner, port=settings.port).start()
        await serve_metrics(metrics, settings)
        log.info("deploybot serving %s", _serving(config))
        if await _slack_ready(runtime.slack, stopping) and settings.slack_app_token is not None:
            socket_mode = AsyncSocketModeHandler(
                runtime.bolt, settings.slack_app_token.get_secret_value()
            )
            await socket_mode.connect_async()  # type: ignore[no-untyped-call]
            log.info("Socket Mode connected: Slack's requests come over it")
        await stopping.wait()
        log.info("deploybot stopping (%s): finishing what was acknowledged", signals[0])
    finally:
        if socket_mode is not None:
            await socket_mode.close_async()  # type: ignore[no-untyped-call]
        await runner.cleanup()
        if metrics.server is not None:
            await metrics.cleanup()
        log.info("deploybot stopped: %s", await runtime.stop())


def _serving(config: Config) -> str:
    """What runs from now on, whether Slack answers yet or not."""
    settings = config.settings
    names = sorted(config.apps)
    shown = ", ".join(names[:10]) + (f" and {len(names) - 10} more" if len(names) > 10 else "")
    if settings.slack_app_token is not None:
        mode = "Slack over Socket Mode (once Slack answers)"
    else:
        mode = f"Slack over HTTP at /slack/events on port {settings.port}"
    metrics = settings.deploybot_metrics_addr or "off"
    return f"{_plural(len(names), 'app')} ({shown}): {mode}; /metrics: {metrics}"


async def _slack_ready(slack: AsyncWebClient, stopping: asyncio.Event) -> bool:
    """Wait until Slack takes the token; ConfigError if it refuses it, False if stopped first."""
    unreachable = False
    while not stopping.is_set():
        try:
            who = await verify_token(slack)
        except BadToken as exc:
            raise ConfigError(str(exc)) from None
        except SlackUnreachable as exc:
            if not unreachable:  # once: a line every few seconds would bury the rest
                log.warning(
                    "%s; trying again every %ss until it does (deployments are still followed, "
                    "and what the bot has to say waits in the store)",
                    exc,
                    SLACK_RETRY,
                )
                unreachable = True
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), SLACK_RETRY)
            continue
        log.info("Slack answers: the bot is %s", who)
        return True
    return False


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"
