"""Builds the pieces and wires them: one event loop, one HTTP client, one scheduler."""

from __future__ import annotations

import logging
import os
import socket
import uuid
from dataclasses import dataclass, field

import aiohttp
import httpx
from aiohttp import web
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from slack_bolt.async_app import AsyncApp
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from bot import listeners, providers
from bot.config import Config
from bot.db import Database
from bot.door import Door, UseCases
from bot.metrics import REGISTRY
from bot.models import Clock, utcnow
from bot.notifier import NoBlindRepost, Notifier
from bot.outbox import Outbox
from bot.policy import Policy
from bot.poller import Poller
from bot.providers import http as provider_http
from bot.redact import Redactor
from bot.store import Store
from bot.thread import Thread
from bot.usecases.approve import Approving
from bot.usecases.common import Audit
from bot.usecases.deploy import Deploying
from bot.usecases.follow import Following
from bot.usecases.operate import Operating
from bot.usecases.report import Reporting
from bot.usecases.rollback import RollingBack

log = logging.getLogger(__name__)

SLACK_TIMEOUT = 10  # seconds; keep it under the lease, so a slow send is not taken over

# Names this process among replicas: it owns the deployments it polls and the messages it sends.
REPLICA = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def secrets_of(config: Config) -> list[str]:
    s = config.settings
    values = [key.get_secret_value() for key in config.api_keys.values()]
    for secret in (s.slack_bot_token, s.slack_signing_secret, s.slack_app_token):
        if secret is not None:
            values.append(secret.get_secret_value())
    return values


@dataclass
class Runtime:
    config: Config
    http: httpx.AsyncClient
    db: Database
    store: Store
    outbox: Outbox
    slack: AsyncWebClient
    door: Door
    poller: Poller
    bolt: AsyncApp
    scheduler: AsyncIOScheduler = field(default_factory=AsyncIOScheduler)

    @classmethod
    async def start(cls, config: Config, *, clock: Clock = utcnow) -> Runtime:
        """Everything but the web listener: store ready, scheduler polling."""
        settings = config.settings
        redact = Redactor(secrets_of(config))
        # Keep-alive for every connection the poller uses at once: none reopened each tick.
        http = provider_http.client(connections=settings.deploybot_poll_concurrency + 20)
        db = Database(settings.deploybot_database_url)
        store = Store(db, clock=clock, owner=REPLICA, lease_seconds=settings.lease_seconds)
        await db.create_schema()
        token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
        # One connection pool for every Slack call: slack_sdk opens a session per call without it.
        slack_session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=100), timeout=aiohttp.ClientTimeout(SLACK_TIMEOUT)
        )
        slack = AsyncWebClient(
            token=token,
            session=slack_session,
            base_url=settings.slack_api_url,
            timeout=SLACK_TIMEOUT,
            retry_handlers=[
                NoBlindRepost(),  # connection errors: a post is left to the outbox's check
                AsyncRateLimitErrorRetryHandler(max_retry_count=3),
                AsyncServerErrorRetryHandler(max_retry_count=2),
            ],
        )
        notifier = Notifier(slack, redact, pace=settings.deploybot_channel_pace)
        outbox = Outbox(
            db,
            notifier,
            clock=clock,
            owner=REPLICA,
            lease_seconds=settings.lease_seconds,
            prompt_sent=store.set_prompt_ts,
        )
        adapters = providers.build_all(config, http)
        thread = Thread(config.apps, store, outbox, adapters, redact)
        audit = Audit(store, redact)
        cases = UseCases(
            deploy=Deploying(adapters, store, thread, audit),
            approve=Approving(adapters, store, thread, audit),
            rollback=RollingBack(adapters, store, thread, audit, clock),
            operate=Operating(adapters, store, thread, audit, redact),
            report=Reporting(config, adapters, store, clock),
        )
        door = Door(config, store, Policy(config.incident_channels), audit, cases)
        follow = Following(config, adapters, store, thread, clock)
        poller = Poller(
            follow,
            store,
            outbox,
            clock,
            owner=REPLICA,
            lease_seconds=settings.lease_seconds,
            concurrency=settings.deploybot_poll_concurrency,
        )
        signing = settings.slack_signing_secret
        bolt = AsyncApp(
            client=slack,
            signing_secret=signing.get_secret_value() if signing else None,
            process_before_response=False,
        )
        listeners.register(bolt, door)
        runtime = cls(config, http, db, store, outbox, slack, door, poller, bolt)
        poller.schedule(runtime.scheduler, settings.deploybot_poll_interval)
        runtime.scheduler.start()
        return runtime

    def web_app(self) -> web.Application:
        app = self.bolt.web_app(path="/slack/events")
        app.router.add_get("/healthz", self._healthz)
        app.router.add_get("/metrics", self._metrics)
        return app

    async def _metrics(self, _: web.Request) -> web.Response:
        return web.Response(
            body=generate_latest(REGISTRY), headers={"Content-Type": CONTENT_TYPE_LATEST}
        )

    async def _healthz(self, _: web.Request) -> web.Response:
        checks = {"scheduler": self.scheduler.running, "store": False}
        try:
            checks["store"] = await self.db.ping()
        except Exception:  # any store failure is "down" to a health check
            log.exception("health check: store unreachable")
        ok = all(checks.values())
        return web.json_response({"ok": ok, **checks}, status=200 if ok else 503)

    async def stop(self) -> None:
        await self.door.drain()
        await self.outbox.idle()
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        await self.http.aclose()
        if self.slack.session is not None:
            await self.slack.session.close()
        await self.db.close()
