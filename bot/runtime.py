"""Builds the pieces and wires them: one event loop, one HTTP client, one scheduler."""

from __future__ import annotations

import logging
import os
import socket
import time
import uuid
from dataclasses import dataclass, field

import aiohttp
import httpx
import sqlalchemy.exc
from aiohttp import web
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from bot import listeners, migrations, providers
from bot.config import Config, ConfigError, Settings
from bot.db import Database
from bot.door import Door, UseCases
from bot.listeners.workspace import OneWorkspace
from bot.metrics import DORA_DAYS, REGISTRY, set_dora
from bot.models import Clock, utcnow
from bot.notifier import BAD_TOKEN, NoBlindRepost, Notifier
from bot.outbox import Outbox
from bot.policy import Policy
from bot.poller import Poller
from bot.providers import http as provider_http
from bot.redact import Redactor
from bot.store import Store
from bot.thread import Thread
from bot.usecases.approve import Approving
from bot.usecases.common import Audit, Gate
from bot.usecases.deploy import Deploying
from bot.usecases.follow import Following
from bot.usecases.home import Showing
from bot.usecases.operate import Operating
from bot.usecases.queue import Queueing
from bot.usecases.report import Reporting
from bot.usecases.rollback import RollingBack

log = logging.getLogger(__name__)

SLACK_TIMEOUT = 10  # seconds; keep it under the lease, so a slow send is not taken over
HEALTH_CACHE = 5.0  # seconds a health check reuses Slack's last answer: auth.test is not free

# Names this process among replicas: it owns the deployments it polls and the messages it sends.
REPLICA = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class SlackUnreachable(Exception):
    """Slack did not answer (network, timeout, 5xx): worth trying again."""


class BadToken(Exception):
    """Slack answered and refused the bot token: the message is one line for a person."""


async def open_store(settings: Settings, *, create: bool = True) -> Database:
    """The database, upgraded to this code's schema (`create`) or only answering; ConfigError in
    one line when DEPLOYBOT_DATABASE_URL cannot be used or the store is newer than the code."""
    url = settings.deploybot_database_url
    unusable = ConfigError(
        "environment: DEPLOYBOT_DATABASE_URL is not a database URL this bot can use "
        "(sqlite:///path/to/file.db or postgresql://user@host/db)"
    )
    if not url.startswith(("sqlite", "postgresql")):
        raise unusable
    try:
        store = Database(url)
    except (sqlalchemy.exc.SQLAlchemyError, ImportError):
        raise unusable from None
    try:
        if create:
            log.info("%s", await migrations.upgrade(store))
        else:
            await store.ping()
    except migrations.SchemaError as exc:
        await store.close()
        raise ConfigError(f"DEPLOYBOT_DATABASE_URL: {exc}") from None
    except (sqlalchemy.exc.SQLAlchemyError, OSError) as exc:
        await store.close()
        reason = _first_line(getattr(exc, "orig", None) or exc)
        raise ConfigError(
            f"environment: DEPLOYBOT_DATABASE_URL: cannot open the store at "
            f"{store.engine.url.render_as_string(hide_password=True)}: {reason}"
        ) from None
    return store


async def verify_token(slack: AsyncWebClient) -> str:
    """auth.test: who the bot is in which workspace, or BadToken, or SlackUnreachable."""
    try:
        answer = await slack.auth_test()
    except SlackApiError as exc:
        code = str(exc.response.get("error", ""))
        if code in BAD_TOKEN:
            raise BadToken(
                f"Slack refused SLACK_BOT_TOKEN ({code}): set the bot token (xoxb-...) "
                "from the app's OAuth & Permissions page"
            ) from None
        raise SlackUnreachable(f"Slack answered auth.test with {code}") from None
    except (aiohttp.ClientError, TimeoutError, OSError) as exc:
        raise SlackUnreachable(
            f"Slack does not answer at {slack.base_url} ({type(exc).__name__}: {exc})"
        ) from None
    return f"@{answer.get('user', '?')} in {answer.get('team', '?')}"


def slack_client(settings: Settings) -> AsyncWebClient:
    """One connection pool for every Slack call: slack_sdk opens a session per call without it."""
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
    session = aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=100), timeout=aiohttp.ClientTimeout(SLACK_TIMEOUT)
    )
    return AsyncWebClient(
        token=token,
        session=session,
        base_url=settings.slack_api_url,
        timeout=SLACK_TIMEOUT,
        retry_handlers=[
            NoBlindRepost(),  # connection errors: a post is left to the outbox's check
            AsyncRateLimitErrorRetryHandler(max_retry_count=3),
            AsyncServerErrorRetryHandler(max_retry_count=2),
        ],
    )


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
    workspace: OneWorkspace
    report: Reporting
    scheduler: AsyncIOScheduler = field(default_factory=AsyncIOScheduler)
    _slack_checked: tuple[float, bool] = (-HEALTH_CACHE, False)  # when, and whether it answered

    @classmethod
    async def start(cls, config: Config, *, clock: Clock = utcnow) -> Runtime:
        """Everything but the web listener: store ready, scheduler polling."""
        settings = config.settings
        redact = Redactor(secrets_of(config))
        # Keep-alive for every connection the poller uses at once: none reopened each tick.
        http = provider_http.client(connections=settings.deploybot_poll_concurrency + 20)
        db = await open_store(settings)
        store = Store(db, clock=clock, owner=REPLICA, lease_seconds=settings.poll_lease_seconds)
        slack = slack_client(settings)
        notifier = Notifier(slack, redact)
        outbox = Outbox(
            db,
            notifier,
            clock=clock,
            owner=REPLICA,
            lease_seconds=settings.claim_seconds,
            pace=settings.deploybot_channel_pace,
            burst=settings.deploybot_channel_burst,
            edits_per_minute=settings.deploybot_edits_per_minute,
            prompt_sent=store.set_prompt_ts,
        )
        adapters = providers.build_all(config, http)
        thread = Thread(
            config.apps, store, outbox, adapters, redact, failure_dms=settings.deploybot_failure_dms
        )
        audit = Audit(store, redact)
        gate, policy = Gate(), Policy(config.incident_channels)
        queue = Queueing(
            config, adapters, store, thread, audit, policy=policy, gate=gate, clock=clock
        )
        cases = UseCases(
            deploy=Deploying(adapters, store, thread, audit, gate),
            approve=Approving(adapters, store, thread, audit),
            rollback=RollingBack(adapters, store, thread, audit, clock),
            operate=Operating(adapters, store, thread, audit, redact),
            report=Reporting(config, adapters, store, clock),
            queue=queue,
            home=Showing(
                config,
                adapters,
                store,
                clock,
                publish=notifier.publish_home,
                link=outbox.permalink,
                whisper=notifier.whisper,
                every=settings.deploybot_home_refresh,
            ),
        )
        thread.on_change = cases.home.changed
        door = Door(config, store, policy, audit, cases, clock=clock)
        follow = Following(config, adapters, store, thread, clock)
        poller = Poller(
            follow,
            queue,
            store,
            outbox,
            clock,
            owner=REPLICA,
            lease_seconds=settings.poll_lease_seconds,
            concurrency=settings.deploybot_poll_concurrency,
        )
        workspace = OneWorkspace(slack)
        workspace.ask()  # now, not on the first requests' way
        signing = settings.slack_signing_secret
        bolt = AsyncApp(
            logger=_bolt_logger(),
            client=slack,
            authorize=workspace,
            signing_secret=signing.get_secret_value() if signing else None,
            process_before_response=True,  # listeners ack and return (bot/listeners/after_ack.py)
        )
        listeners.register(bolt, door)
        runtime = cls(
            config, http, db, store, outbox, slack, door, poller, bolt, workspace, cases.report
        )
        poller.schedule(runtime.scheduler, settings.deploybot_poll_interval)
        runtime.scheduler.start()
        return runtime

    def web_app(self) -> web.Application:
        app = self.bolt.web_app(path="/slack/events")
        app.router.add_get("/healthz", self._healthz)
        app.router.add_get("/metrics", self._metrics)
        return app

    async def _metrics(self, _: web.Request) -> web.Response:
        await self._refresh_dora()
        return web.Response(
            body=generate_latest(REGISTRY), headers={"Content-Type": CONTENT_TYPE_LATEST}
        )

    async def _refresh_dora(self) -> None:
        """Each app's DORA figures from the store alone, in one query: a scrape reads nothing
        from a provider (deployments made outside the bot are in `/deploy stats`, not here)."""
        for app, figures in (await self.report.figures_of_all(DORA_DAYS)).items():
            set_dora(
                app,
                per_day=figures.per_day,
                failure_rate=figures.change_failure_rate,
                restore_seconds=figures.median_restore_seconds,
            )

    async def _healthz(self, _: web.Request) -> web.Response:
        checks = {"scheduler": self.scheduler.running, "store": False, "slack": False}
        try:
            checks["store"] = await self.db.ping()
        except Exception as exc:  # noqa: BLE001 - any store failure is "down" to a health check
            log.debug("health check: the store does not answer: %s", _first_line(exc))
        checks["slack"] = await self.slack_answers()
        ok = all(checks.values())
        return web.json_response({"ok": ok, **checks}, status=200 if ok else 503)

    async def slack_answers(self) -> bool:
        """Whether Slack takes the token; asked at most every HEALTH_CACHE seconds."""
        now = time.monotonic()
        if now - self._slack_checked[0] < HEALTH_CACHE:
            return self._slack_checked[1]
        try:
            await verify_token(self.slack)
            answers = True
        except (SlackUnreachable, BadToken) as exc:  # said in the reply; a line each would flood
            log.debug("health check: %s", exc)
            answers = False
        self._slack_checked = (now, answers)
        return answers

    async def stop(self) -> None:
        """Take no new tick, finish what was acknowledged, then hand everything held over."""
        if self.scheduler.running:
            self.scheduler.pause()
        await self.poller.stop()  # the tick under way ends: the scheduler would cancel it
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        await self.door.drain()
        await self.door.home_stop()
        await self.outbox.release()
        released = await self.store.release(REPLICA)
        self.poller.released()
        if released:
            log.info(
                "handed over %s: the next tick of any replica polls them", _deployments(released)
            )
        await self.http.aclose()
        self.workspace.close()
        if self.slack.session is not None:
            await self.slack.session.close()
        await self.db.close()


class _TokenFromEnvironment(logging.Filter):
    """Bolt reads SLACK_BOT_TOKEN from the environment by itself even when given a client, then
    warns on every start that the token "will be unused" (bolt-python#983), and, given an
    `authorize`, that it "will be ignored". We give it only the client, whose token the
    authorization hands back (bot/listeners/workspace.py): neither line says anything true."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        return "`token` will be unused" not in message and "will be ignored" not in message


def _bolt_logger() -> logging.Logger:
    bolt_log = logging.getLogger("slack_bolt.deploybot")
    if not bolt_log.filters:
        bolt_log.addFilter(_TokenFromEnvironment())
    return bolt_log


def _deployments(count: int) -> str:
    return f"{count} deployment{'' if count == 1 else 's'}"


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]
