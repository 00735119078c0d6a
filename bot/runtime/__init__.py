"""Builds the pieces and wires them: one event loop, one HTTP client, one scheduler."""

from __future__ import annotations

import logging
import os
import socket
import uuid
from dataclasses import dataclass

import httpx
from aiohttp import web
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot import listeners, providers
from bot.config import Config
from bot.config.secrets import secrets_of
from bot.door import Door
from bot.door.cases import UseCases
from bot.jobs.poller import Poller
from bot.jobs.scheduler import Scheduler
from bot.jobs.watcher import Watcher
from bot.listeners.workspace import OneWorkspace
from bot.migrations import open_store
from bot.models import Clock, utcnow
from bot.outbox import Outbox
from bot.outbox.notifier import Notifier
from bot.policy import Policy
from bot.providers import http as provider_http
from bot.redact import Redactor
from bot.runtime.handover import Handover
from bot.runtime.slack import bolt_app, slack_answers, slack_client
from bot.sealed import Sealer
from bot.store import Store
from bot.store.db import Database
from bot.store.viewers import HomeViewers
from bot.store.watched import Watched
from bot.thread import Thread
from bot.usecases.approve import Approving
from bot.usecases.common import Audit, Gate
from bot.usecases.deploy import Deploying
from bot.usecases.figures import DoraFigures
from bot.usecases.follow import Following
from bot.usecases.home import Showing
from bot.usecases.operate import Operating
from bot.usecases.queue import Queueing
from bot.usecases.recover import Recovering
from bot.usecases.report import Reporting
from bot.usecases.rollback import RollingBack
from bot.usecases.start import Starting
from bot.usecases.watch import Watching
from bot.usecases.watch_own import marking_own
from bot.web import add_health, cached, metrics_app

log = logging.getLogger(__name__)

# A start's trigger ends within this, retries included (the provider API's 30 s budget).
START_GRACE = 45.0

# Names this process among replicas: it owns the deployments it polls and the messages it sends.
REPLICA = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


@dataclass
class Runtime:
    config: Config
    http: httpx.AsyncClient
    db: Database
    store: Store
    outbox: Outbox
    slack: AsyncWebClient
    door: Door
    jobs: Scheduler  # the poller and the watcher
    bolt: AsyncApp
    workspace: OneWorkspace
    figures: DoraFigures  # the DORA gauges of /metrics

    @classmethod
    async def start(
        cls, config: Config, *, clock: Clock = utcnow, redact: Redactor | None = None
    ) -> Runtime:
        """Everything but the web listener: store ready, scheduler polling. `redact`: the one
        the log lines go through, so that it learns override values with the rest."""
        settings = config.settings
        redact = redact or Redactor(secrets_of(config))
        key = settings.deploybot_secret_key
        sealer = Sealer(key.get_secret_value() if key else None, redact=redact)
        # Keep-alive for every connection the poller uses at once: none reopened each tick.
        http = provider_http.client(connections=settings.deploybot_poll_concurrency + 20)
        db = await open_store(settings)
        store = Store(
            db,
            clock=clock,
            owner=REPLICA,
            lease_seconds=settings.poll_lease_seconds,
            sealer=sealer,
        )
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
            retry_cap=settings.deploybot_slack_retry_cap,
            prompt_sent=store.set_prompt_ts,
        )
        outbox.start_heartbeat()
        watched = Watched(db, clock=clock)
        announcing = [name for name, app in config.apps.items() if app.announce]
        adapters = marking_own(providers.build_all(config, http), announcing, watched)
        thread = Thread(
            config.apps, store, outbox, adapters, redact, failure_dms=settings.deploybot_failure_dms
        )
        audit = Audit(store, redact)
        gate, policy = Gate(), Policy(config.incident_channels)
        starting = Starting(adapters, store, thread, audit)
        queue = Queueing(
            config, store, thread, audit, policy=policy, gate=gate, clock=clock, starting=starting
        )
        cases = UseCases(
            deploy=Deploying(adapters, store, thread, audit, gate, starting=starting),
            approve=Approving(adapters, store, thread, audit),
            rollback=RollingBack(adapters, store, thread, audit, clock),
            operate=Operating(adapters, store, thread, audit, redact, starting=starting),
            report=Reporting(config, adapters, store, clock),
            queue=queue,
            home=Showing(
                config,
                adapters,
                store,
                clock,
                viewers=HomeViewers(db, clock=clock),
                publish=notifier.publish_home,
                link=outbox.permalink,
                whisper=notifier.whisper,
                tell=notifier.post,
                every=settings.deploybot_home_refresh,
                viewers_for=settings.deploybot_home_viewers_for,
                per_minute=settings.deploybot_home_publishes_per_minute,
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
            recover=Recovering(config, adapters, store, thread, clock),
            owner=REPLICA,
            lease_seconds=settings.poll_lease_seconds,
            concurrency=settings.deploybot_poll_concurrency,
        )
        watching = Watching(
            config,
            adapters,
            watched,
            store,
            thread,
            clock=clock,
            concurrency=settings.deploybot_poll_concurrency,
        )
        await watching.begin()
        workspace = OneWorkspace(slack)
        workspace.ask()  # now, not on the first requests' way
        bolt = bolt_app(slack, workspace, settings)
        listeners.register(bolt, door)
        jobs = Scheduler(poller, Watcher(watching, clock))
        jobs.start(settings.deploybot_poll_interval)
        figures = DoraFigures(store, config.apps, clock)
        return cls(config, http, db, store, outbox, slack, door, jobs, bolt, workspace, figures)

    def web_app(self) -> web.Application:
        """What listens on $PORT: Slack's requests, /healthz (liveness) and /readyz (readiness)."""
        app = self.bolt.web_app(path="/slack/events")
        live = {"store": self.db.ping, "scheduler": self.jobs.running}
        add_health(app, live, {"slack": cached(self._slack_answers)})  # auth.test is not free
        return app

    def metrics_app(self) -> web.Application:
        """What listens on DEPLOYBOT_METRICS_ADDR: /metrics alone."""
        return metrics_app(self.figures.refresh)

    async def _slack_answers(self) -> bool:
        return await slack_answers(self.slack)

    async def _finish_starts(self) -> int:
        """A start under way is finished, not cut half-way: its trigger, retries included, ends
        within START_GRACE. One that does not is handed over whole, as a crash would leave it."""
        left = await self.store.slots.starts_done(within=START_GRACE)
        if not left:
            return 0
        log.warning("%d deploy start(s) still under way after %ss", left, START_GRACE)
        return await self.store.slots.hand_over_starts()

    async def stop(self) -> Handover:
        """Take no new tick, finish what was acknowledged, then hand everything held over."""
        await self.jobs.stop()  # the tick under way ends: the scheduler would cancel it
        await self.door.drain()
        starts = await self._finish_starts()
        await self.door.home_stop()
        await self.outbox.release()
        released = await self.store.leases.release(REPLICA)
        self.jobs.poller.released()
        handover = Handover(released, starts, await self.outbox.unsent())
        await self.http.aclose()
        self.workspace.close()
        if self.slack.session is not None:
            await self.slack.session.close()
        await self.db.close()
        return handover
