"""A deployment's life in its thread: deploy, wait for approval, follow to live or failed."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from slack_sdk.models.blocks import Block

from bot import blocks, notices
from bot.commands import USAGE, Deploy, UsageError, commit_only
from bot.config import AppConfig
from bot.context import Actor, Deps, Reply
from bot.metrics import DEPLOYMENTS
from bot.models import Deployment, Status
from bot.providers.base import Provider, ProviderError
from bot.providers.stormkit_shapes import publish_outcome
from bot.store import Notice, Tracked

log = logging.getLogger(__name__)


def aware(moment: datetime) -> datetime:
    """SQLite gives datetimes back without their zone; the store writes UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class Flow:
    def __init__(self, deps: Deps) -> None:
        self.d = deps

    async def deploy(self, request: Deploy, actor: Actor) -> Reply | None:
        """Post the root message, trigger (or wait for an approver), and follow it in the thread."""
        app = self.d.app(request.app)
        if request.env and app.provider != "nometria":
            raise UsageError(
                f"`{app.name}` is on {app.provider}, which takes no KEY=VALUE overrides.",
                USAGE["deploy"],
            )
        if app.provider == "nometria":
            commit_only(app.name, request.ref)
        self.d.policy.deploy(app, actor.user, actor.channel, await self.d.store.lock_of(app.name))
        ref = request.ref or app.default_branch
        card = blocks.Card(
            app=app.name, provider=app.provider, requester=actor.user, ref=ref, status=Status.QUEUED
        )
        if app.approval and app.provider == "nometria":
            await self._await_approval(app, request, actor, card)
            return None
        root_ts = await self.post_root(actor.channel, card)
        provider = self.d.providers[app.name]
        try:
            deployment = await provider.trigger(
                ref=request.ref, env_vars=request.env, publish=not app.approval
            )
        except ProviderError as exc:
            await self.trigger_failed(card, actor.channel, root_ts, exc)
            raise
        row = await self.d.store.track(
            app=app.name,
            provider=app.provider,
            deployment_id=deployment.id,
            channel=actor.channel,
            root_ts=root_ts,
            requester=actor.user,
            ref=ref,
            status=deployment.status.value,
            approval="pending" if app.approval else None,
        )
        await self.started(row, deployment)
        await self.d.audit(actor, "deploy", app.name, "ok", deployment_id=deployment.id)
        return None

    async def _await_approval(
        self, app: AppConfig, request: Deploy, actor: Actor, card: blocks.Card
    ) -> None:
        """Nometria has no separate publish: nothing is triggered until an approver clicks."""
        card = card.but(waiting_for=app.approvers)
        root_ts = await self.post_root(actor.channel, card)
        row = await self.d.store.track(
            app=app.name,
            provider=app.provider,
            deployment_id=None,
            channel=actor.channel,
            root_ts=root_ts,
            requester=actor.user,
            ref=request.ref,
            env=request.env,
            status=Status.QUEUED.value,
            approval="pending",
        )
        overrides = ", ".join(f"`{key}`" for key in request.env)
        text = (
            f":raised_hand: <@{actor.user}> asks to deploy *{app.name}* "
            f"(`{request.ref or 'HEAD'}`{f', overriding {overrides}' if overrides else ''}). "
            "Nothing is triggered until an approver clicks Approve."
        )
        await self.prompt(row, text, approve_label="Approve")
        await self.d.audit(actor, "deploy", app.name, "ok", detail="waiting for approval")

    async def post_root(self, channel: str, card: blocks.Card) -> str:
        return await self.d.notifier.post(channel, blocks.root_text(card), blocks.root(card))

    async def update_root(self, row: Tracked, card: blocks.Card) -> None:
        await self.d.outbox.send([notices.root(row.channel, row.root_ts, card, tracked_id=row.id)])

    async def reply(self, row: Tracked, text: str) -> None:
        await self.d.outbox.send([notices.reply(row.channel, row.root_ts, text, tracked_id=row.id)])

    async def started(self, row: Tracked, deployment: Deployment) -> None:
        text = f"Started `{deployment.id}` on {row.provider}: {deployment.status.label}."
        await self.d.outbox.send(
            [
                notices.root(
                    row.channel, row.root_ts, self.card(row, deployment), tracked_id=row.id
                ),
                notices.reply(row.channel, row.root_ts, text, tracked_id=row.id),
            ]
        )

    async def trigger_failed(
        self, card: blocks.Card, channel: str, root_ts: str, exc: ProviderError
    ) -> None:
        log.warning("%s of %s failed: %s", card.title, card.app, exc)
        failed = card.but(status=Status.FAILED, note=str(exc), waiting_for=None)
        text = f"{Status.FAILED.emoji} Could not start: {exc}"
        await self.d.outbox.send(
            [notices.root(channel, root_ts, failed), notices.reply(channel, root_ts, text)]
        )

    async def prompt(self, row: Tracked, text: str, *, approve_label: str) -> None:
        prompt = blocks.approval_prompt(text, row.id, approve_label=approve_label)
        await self.d.outbox.send([self._prompt_notice(row, text, prompt)])

    def _prompt_notice(self, row: Tracked, text: str, prompt: list[Block]) -> Notice:
        """The approval buttons; the outbox records the message's ts on the row once sent."""
        return notices.reply(
            row.channel, row.root_ts, text, prompt, tracked_id=row.id, purpose="prompt"
        )

    def card(self, row: Tracked, deployment: Deployment | None = None) -> blocks.Card:
        status = deployment.status if deployment else row.state
        pending = row.approval == "pending" and status in {Status.QUEUED, Status.READY}
        app = self.d.config.apps.get(row.app)
        return blocks.Card(
            app=row.app,
            provider=row.provider,
            requester=row.requester,
            ref=row.ref or (deployment.ref if deployment else None),
            status=status,
            deployment_id=deployment.id if deployment else row.deployment_id,
            url=deployment.url if deployment and status is Status.LIVE else None,
            title="Rollback" if row.kind == "rollback" else "Deploy",
            waiting_for=app.approvers if pending and app else None,
            approved_by=row.approved_by if row.approval == "approved" else None,
        )

    # -- following ---------------------------------------------------------------------------

    async def refresh(self, row: Tracked) -> None:
        """Read one tracked deployment's status; announce a change, an outage, a give-up once."""
        provider = self.d.providers.get(row.app)
        if provider is None or row.deployment_id is None:
            log.warning("%s is gone from the config; not following %s", row.app, row.deployment_id)
            return
        now = self.d.now()
        settings = self.d.config.settings
        if now - aware(row.created_at) > timedelta(seconds=settings.deploybot_max_duration):
            await self._give_up(row, now)
            return
        try:
            deployment = await provider.poll(row.deployment_id)
        except ProviderError as exc:
            await self._unreachable(row, provider.name, exc, now)
            raise
        if row.failing_since is not None:
            await self._reachable(row, provider.name)
        await self.settle(row, deployment)

    async def _unreachable(
        self, row: Tracked, provider: str, exc: ProviderError, now: datetime
    ) -> None:
        """The first failure is remembered; a long outage is said once in the thread."""
        if row.failing_since is None:
            await self.d.store.update(row.id, failing_since=now)
            return
        quiet_for = now - aware(row.failing_since)
        threshold = timedelta(seconds=self.d.config.settings.deploybot_outage_notice_after)
        if row.outage_noticed or quiet_for < threshold:
            return
        quiet = blocks.duration(int(quiet_for.total_seconds()))
        text = (
            f":warning: {provider.capitalize()} has not answered for {quiet} ({exc}). "
            "I keep trying, and will say here when it answers again."
        )
        await self._say_once(row, {"outage_noticed": False}, text, outage_noticed=True)

    async def _reachable(self, row: Tracked, provider: str) -> None:
        if not row.outage_noticed:
            await self.d.store.update(row.id, failing_since=None)
            return
        text = f":white_check_mark: {provider.capitalize()} answers again; following resumes."
        await self._say_once(
            row, {"outage_noticed": True}, text, outage_noticed=False, failing_since=None
        )

    async def _give_up(self, row: Tracked, now: datetime) -> None:
        took = blocks.duration(int((now - aware(row.created_at)).total_seconds()))
        text = (
            f":hourglass: `{row.deployment_id}` is still {row.state.label} after {took}: "
            f"I stop following it here. `/deploy status {row.app}` shows where it stands."
        )
        await self._say_once(row, {"abandoned": False}, text, abandoned=True)

    async def _say_once(
        self, row: Tracked, expected: dict[str, object], text: str, **values: object
    ) -> None:
        """Change the row and queue one reply about it, if no one else did it first."""
        said = [notices.reply(row.channel, row.root_ts, text, tracked_id=row.id)]
        if await self.d.store.change(row.id, expected, notices=said, **values):
            self.d.outbox.kick([row.channel])

    async def settle(self, row: Tracked, deployment: Deployment) -> None:
        """Record a new status and queue its announcement in one compare-and-set: the winner
        alone announces it, and a crash can neither lose nor double the announcement."""
        deployment = publish_outcome(row.provider, row.state, deployment)
        if deployment.status == row.state:
            return
        said, also = await self._announcement(row, deployment)
        won = await self.d.store.advance(
            row.id, expected=row.state, new=deployment.status, notices=said, **also
        )
        if won:
            row.status = deployment.status.value
            self.d.outbox.kick([row.channel])
            if deployment.status.finished:
                DEPLOYMENTS.labels(row.provider, deployment.status.value).inc()

    async def _announcement(
        self, row: Tracked, deployment: Deployment
    ) -> tuple[list[Notice], dict[str, str]]:
        """What the thread hears about a new status, and what else the row records with it."""
        app, channel, root_ts = row.app, row.channel, row.root_ts
        said = [notices.root(channel, root_ts, self.card(row, deployment), tracked_id=row.id)]
        also: dict[str, str] = {}

        def reply(
            text: str, content: list[Block] | None = None, *, broadcast: bool = False
        ) -> None:
            said.append(
                notices.reply(
                    channel, root_ts, text, content, tracked_id=row.id, broadcast=broadcast
                )
            )

        match deployment.status:
            case Status.LIVE:
                reply(blocks.live_text(app, deployment))
                if row.approval == "pending":
                    also["approval"] = "bypassed"
                    reply(blocks.unapproved_live_text(app), broadcast=True)
            case Status.FAILED | Status.STOPPED:
                excerpt = await self._excerpt(self.d.providers[app], deployment)
                reply(blocks.failed_text(app, deployment), blocks.failed(app, deployment, excerpt))
            case Status.READY if row.approval == "pending":
                approvers = ", ".join(f"<@{a}>" for a in self.d.app(app).approvers)
                text = f"{blocks.ready_text(app, deployment)}\n{approvers}: publish it?"
                prompt = blocks.approval_prompt(text, row.id, approve_label="Approve & publish")
                said.append(self._prompt_notice(row, text, prompt))
            case Status.READY:
                reply(blocks.ready_text(app, deployment))
            case status:
                reply(blocks.progress_text(app, status))
        return said, also

    async def _excerpt(self, provider: Provider, deployment: Deployment) -> str | None:
        try:
            lines = await provider.logs(deployment.id)
        except ProviderError as exc:
            return f"(the logs could not be read: {exc})"
        return self.d.redact(blocks.excerpt(lines)) or None
