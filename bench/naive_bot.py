"""A naive deploy bot, for comparison only: what deploybot would be without its robustness.

One asyncio task per `/deploy`: it acks, posts the root message, triggers, then polls its own
deployment every interval and posts each change straight to Slack (a thread reply, then an edit
of the root). No store, no outbox, no pacing, no approvals, no restart safety: a crash forgets
everything, and Slack's rate limits are not respected. It shares deploybot's provider adapters,
Slack client set-up and message builders, so what differs is the shape, not the plumbing.

    python -m bench.naive_bot     (reads the same environment as `deploybot serve`)
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiohttp import web
from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler

from bot import config as configuration
from bot import providers
from bot.config import Config
from bot.config.settings import Settings
from bot.models import Deployment, Status
from bot.providers import http as provider_http
from bot.providers.base import Provider, ProviderError
from bot.render import blocks
from bot.runtime.slack import slack_client

log = logging.getLogger("naive")


class NaiveBot:
    def __init__(self, config: Config) -> None:
        settings = config.settings
        self.interval = settings.deploybot_poll_interval
        self.http = provider_http.client(connections=100)
        self.providers: dict[str, Provider] = providers.build_all(config, self.http)
        self.slack = slack_client(settings)
        # Naive, not broken: against Slack's limits it waits out every 429, however many.
        self.slack.retry_handlers = [
            h
            for h in self.slack.retry_handlers
            if not isinstance(h, AsyncRateLimitErrorRetryHandler)
        ] + [AsyncRateLimitErrorRetryHandler(max_retry_count=1000)]
        self.config = config
        self.tasks: set[asyncio.Task[None]] = set()
        signing = settings.slack_signing_secret
        self.bolt = AsyncApp(
            client=self.slack,
            signing_secret=signing.get_secret_value() if signing else None,
            process_before_response=False,
        )
        self.bolt.command("/deploy")(self.on_deploy)

    async def on_deploy(self, ack: AsyncAck, command: dict[str, Any]) -> None:
        name = command.get("text", "").split()[0] if command.get("text") else ""
        if name not in self.providers:
            await ack(text=f"No app called {name!r}.", response_type="ephemeral")
            return
        await ack()
        task = asyncio.create_task(self.deploy(name, command["user_id"], command["channel_id"]))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def deploy(self, name: str, user: str, channel: str) -> None:
        app = self.config.apps[name]
        card = blocks.Card(
            app=name, provider=app.provider, requester=user, ref=app.default_branch,
            status=Status.QUEUED,
        )  # fmt: skip
        message = blocks.root(card)
        root = await self.slack.chat_postMessage(
            channel=channel, text=message.text, blocks=message.to_dicts()
        )
        root_ts = str(root["ts"])
        provider = self.providers[name]
        try:
            deployment = await provider.trigger(ref=None, env_vars={}, publish=True)
        except ProviderError as exc:
            await self.reply(channel, root_ts, f"Could not start: {exc}")
            return
        card = card.but(deployment_id=deployment.id)
        text = f"Started `{deployment.id}` on {app.provider}: {deployment.status.label}."
        await self.reply(channel, root_ts, text)
        await self.edit(channel, root_ts, card.but(status=deployment.status))
        await self.follow(provider, deployment, card, channel, root_ts)

    async def follow(
        self, provider: Provider, deployment: Deployment, card: blocks.Card, channel: str, ts: str
    ) -> None:
        status = deployment.status
        while not status.finished:
            await asyncio.sleep(self.interval)
            try:
                deployment = await provider.poll(deployment.id)
            except ProviderError as exc:
                log.warning("polling %s: %s", deployment.id, exc)
                continue
            if deployment.status == status:
                continue
            status = deployment.status
            await self.reply(channel, ts, _said(card.app, deployment))
            url = deployment.url if status is Status.LIVE else None
            await self.edit(channel, ts, card.but(status=status, url=url))

    async def reply(self, channel: str, thread_ts: str, text: str) -> None:
        message = blocks.note(text)
        await self.slack.chat_postMessage(
            channel=channel, thread_ts=thread_ts, text=message.text, blocks=message.to_dicts()
        )

    async def edit(self, channel: str, ts: str, card: blocks.Card) -> None:
        message = blocks.root(card)
        await self.slack.chat_update(
            channel=channel, ts=ts, text=message.text, blocks=message.to_dicts()
        )


def _said(app: str, deployment: Deployment) -> str:
    match deployment.status:
        case Status.LIVE:
            return blocks.live_text(app, deployment)
        case Status.FAILED | Status.STOPPED:
            return blocks.failed_text(app, deployment)
        case Status.READY:
            return blocks.ready_text(app, deployment)
        case status:
            return blocks.progress_text(app, status)


async def _healthz(_: web.Request) -> web.Response:
    return web.json_response({"ok": True})


async def serve() -> None:
    config = configuration.load(Settings())
    bot = NaiveBot(config)
    app = bot.bolt.web_app(path="/slack/events")
    app.router.add_get("/healthz", _healthz)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, port=config.settings.port).start()
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (15, 2):
        loop.add_signal_handler(signum, stopping.set)
    try:
        await stopping.wait()
    finally:
        await runner.cleanup()
        for task in bot.tasks:
            task.cancel()
        await bot.http.aclose()
        if bot.slack.session is not None:
            await bot.slack.session.close()


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING)
    asyncio.run(serve())
