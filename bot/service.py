"""The use-cases. Listeners and the poller both call these."""

from __future__ import annotations

import difflib
import logging

from bot import blocks
from bot.commands import USAGE, Deploy, UsageError
from bot.config import AppConfig, Config
from bot.models import Deployment, Status
from bot.notifier import Notifier
from bot.providers.base import Provider, ProviderError
from bot.redact import Redactor
from bot.store import Store, Tracked

log = logging.getLogger(__name__)


class Service:
    def __init__(
        self,
        config: Config,
        providers: dict[str, Provider],
        store: Store,
        notifier: Notifier,
        redact: Redactor,
    ) -> None:
        self.config = config
        self.providers = providers
        self.store = store
        self.notifier = notifier
        self.redact = redact

    def app(self, name: str) -> AppConfig:
        app = self.config.apps.get(name)
        if app is not None:
            return app
        close = difflib.get_close_matches(name, list(self.config.apps), n=1)
        hint = f" Did you mean `{close[0]}`?" if close else ""
        known = ", ".join(f"`{a}`" for a in sorted(self.config.apps))
        raise UsageError(f"There is no app called `{name}`.{hint} Apps: {known}.", USAGE["deploy"])

    async def deploy(self, request: Deploy, *, user: str, channel: str) -> Tracked | None:
        """Post the root message, trigger, and start following the deployment in its thread."""
        app = self.app(request.app)
        if request.env and app.provider != "nometria":
            raise UsageError(
                f"`{app.name}` is on {app.provider}, which takes no KEY=VALUE overrides.",
                USAGE["deploy"],
            )
        ref = request.ref or app.default_branch
        card = blocks.Card(
            app=app.name, provider=app.provider, requester=user, ref=ref, status=Status.QUEUED
        )
        root_ts = await self.notifier.post(channel, blocks.root_text(card), blocks.root(card))
        provider = self.providers[app.name]
        try:
            deployment = await provider.trigger(
                ref=request.ref, env_vars=request.env, publish=not app.approval
            )
        except ProviderError as exc:
            await self._trigger_failed(card, channel, root_ts, exc)
            return None
        row = await self.store.track(
            app=app.name,
            provider=app.provider,
            deployment_id=deployment.id,
            channel=channel,
            root_ts=root_ts,
            requester=user,
            ref=ref,
            status=deployment.status,
        )
        card = _card(row, deployment)
        await self._update_root(channel, root_ts, card)
        started = f"Started `{deployment.id}` on {app.provider}: {deployment.status.label}."
        await self.notifier.post(
            channel, started, blocks.progress(app.name, deployment.status), thread_ts=root_ts
        )
        return row

    async def _trigger_failed(
        self, card: blocks.Card, channel: str, root_ts: str, exc: ProviderError
    ) -> None:
        log.warning("trigger of %s failed: %s", card.app, exc)
        failed = blocks.Card(**{**card.__dict__, "status": Status.FAILED, "note": str(exc)})
        await self._update_root(channel, root_ts, failed)
        text = f"{Status.FAILED.emoji} Could not start the deployment: {exc}"
        await self.notifier.post(channel, text, blocks.progress_note(text), thread_ts=root_ts)

    async def _update_root(self, channel: str, ts: str, card: blocks.Card) -> None:
        await self.notifier.update(channel, ts, blocks.root_text(card), blocks.root(card))

    async def refresh(self, row: Tracked) -> None:
        """Read one tracked deployment's status; announce a change once."""
        provider = self.providers.get(row.app)
        if provider is None:
            log.warning(
                "app %s is no longer configured; %s is not followed", row.app, row.deployment_id
            )
            return
        deployment = await provider.poll(row.deployment_id)
        if deployment.status == row.state:
            return
        if not await self.store.advance(row.id, expected=row.state, new=deployment.status):
            return  # another poller announced it
        await self._announce(row, deployment, provider)

    async def _announce(self, row: Tracked, deployment: Deployment, provider: Provider) -> None:
        card = _card(row, deployment)
        await self.notifier.update(
            row.channel, row.root_ts, blocks.root_text(card), blocks.root(card)
        )
        match deployment.status:
            case Status.LIVE:
                text = blocks.live_text(row.app, deployment)
                reply = blocks.live(row.app, deployment)
            case Status.FAILED | Status.STOPPED:
                excerpt = await self._excerpt(provider, deployment)
                text = blocks.failed_text(row.app, deployment)
                reply = blocks.failed(row.app, deployment, excerpt)
            case Status.READY:
                text = f"{row.app} is built and not live yet"
                reply = blocks.ready(row.app, deployment)
            case status:
                text = blocks.progress_text(row.app, status)
                reply = blocks.progress(row.app, status)
        await self.notifier.post(row.channel, text, reply, thread_ts=row.root_ts)

    async def _excerpt(self, provider: Provider, deployment: Deployment) -> str | None:
        try:
            lines = await provider.logs(deployment.id)
        except ProviderError as exc:
            return f"(the logs could not be read: {exc})"
        return self.redact(blocks.excerpt(lines)) or None


def _card(row: Tracked, deployment: Deployment) -> blocks.Card:
    return blocks.Card(
        app=row.app,
        provider=row.provider,
        requester=row.requester,
        ref=row.ref or deployment.ref,
        status=deployment.status,
        deployment_id=deployment.id,
        url=deployment.url if deployment.status is Status.LIVE else None,
    )
