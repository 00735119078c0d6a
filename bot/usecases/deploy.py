"""Deploy: post the root, trigger (or wait for an approver, or wait in line behind the app's
deployment in flight), and follow it in the thread."""

from __future__ import annotations

from collections.abc import Mapping

from bot.blocks import Card, ref_words
from bot.commands import Deploy, commit_only
from bot.config import AppConfig
from bot.home_blocks import escape
from bot.models import Action, Approval, Deployment, Kind, Status, Tracked
from bot.providers.base import Provider, ProviderError
from bot.store import Store
from bot.thread import Thread
from bot.usage import USAGE, UsageError
from bot.usecases.common import Actor, Audit, Gate


class Deploying:
    def __init__(
        self,
        providers: Mapping[str, Provider],
        store: Store,
        thread: Thread,
        audit: Audit,
        gate: Gate,
    ) -> None:
        self._providers = providers
        self._store = store
        self._thread = thread
        self._audit = audit
        self._gate = gate

    async def __call__(
        self, request: Deploy, app: AppConfig, actor: Actor, *, held: str | None = None
    ) -> None:
        """`held`: why deploys are held now (a lock, a freeze) when an approver forces one."""
        provider = self._providers[app.name]
        if request.env and "env" not in provider.supports:
            raise UsageError(
                f"`{app.name}` is on {app.provider}, which takes no KEY=VALUE overrides.",
                USAGE["deploy"],
            )
        if "commit_refs" in provider.supports:
            commit_only(app.name, request.ref)
        ref = request.ref or app.default_branch
        if held is not None and request.force is not None:
            await self._break_glass(app, actor, held, request.force)
        async with self._gate(app.name):
            if await self._store.busy(app.name):
                await self._wait(app, request, actor)
                return
            await self._start(app, request, actor, provider, ref)

    async def _start(
        self, app: AppConfig, request: Deploy, actor: Actor, provider: Provider, ref: str | None
    ) -> None:
        card = Card(
            app=app.name, provider=app.provider, requester=actor.user, ref=ref, status=Status.QUEUED
        )
        if app.approval and "publish" not in provider.supports:
            await self._await_approval(app, request, actor, card)
            return
        root_ts = await self._thread.open(actor.channel, card)
        try:
            deployment = await provider.trigger(
                ref=request.ref, env_vars=request.env, publish=not app.approval
            )
        except ProviderError as exc:
            await self._thread.could_not_start(card, actor.channel, root_ts, exc)
            raise
        row = await self._track(
            app,
            actor,
            root_ts,
            ref or deployment.ref,  # the branch the provider chose, once it says
            deployment=deployment,
            approval=Approval.PENDING if app.approval else None,
        )
        await self._thread.started(row, deployment)
        if request.env:
            await self._thread.say(row, overridden(request.env))
        await self._audit(
            actor,
            Action.DEPLOY,
            app.name,
            "ok",
            deployment_id=deployment.id,
            detail=_audited_keys(request.env),
        )

    async def _wait(self, app: AppConfig, request: Deploy, actor: Actor) -> None:
        """The app is deploying: this one waits in line; the poller starts it in its turn."""
        ahead = await self._store.in_line(app.name)
        card = Card(
            app=app.name,
            provider=app.provider,
            requester=actor.user,
            ref=request.ref,
            status=Status.QUEUED,
            place=len(ahead) + 1,
        )
        root_ts = await self._thread.open(actor.channel, card)
        row = await self._track(
            app, actor, root_ts, request.ref, env=request.env, waiting=True, forced=request.force
        )
        line = await self._store.in_line(app.name)
        await self._thread.in_line(line)
        place = next((n for n, r in enumerate(line, 1) if r.id == row.id), len(line))
        text = (
            f":hourglass: *{app.name}* is already deploying, so this deploy waits its turn "
            f"(number {place} in line). It starts by itself when the ones before it end, "
            "checking locks, freezes and permissions again then. Nothing is triggered until then; "
            f"<@{actor.user}> can Cancel it above."
        )
        await self._thread.say(row, text)
        await self._audit(
            actor, Action.DEPLOY, app.name, "waiting", detail=f"number {place} in line"
        )

    async def _track(
        self,
        app: AppConfig,
        actor: Actor,
        root_ts: str,
        ref: str | None,
        *,
        deployment: Deployment | None = None,
        approval: Approval | None = None,
        env: Mapping[str, str] | None = None,
        waiting: bool = False,
        forced: str | None = None,
    ) -> Tracked:
        """A deploy `actor` asked for, followed from its root: triggered (`deployment`), or
        not yet (queued: waiting in line, or for an approver)."""
        return await self._store.track(
            kind=Kind.DEPLOY,
            app=app.name,
            provider=app.provider,
            deployment_id=deployment.id if deployment is not None else None,
            channel=actor.channel,
            root_ts=root_ts,
            requester=actor.user,
            ref=ref,
            status=deployment.status if deployment is not None else Status.QUEUED,
            approval=approval,
            env=env,
            waiting=waiting,
            forced=forced,
        )

    async def _break_glass(self, app: AppConfig, actor: Actor, held: str, reason: str) -> None:
        """Deploying through a freeze or a lock is said to the whole channel, and audited."""
        text = (
            f":rotating_light: <@{actor.user}> is deploying *{app.name}* anyway. {held}\n"
            f"Their reason: {escape(reason)}"
        )
        await self._thread.announce(actor.channel, text)
        detail = f"break glass: {reason} (held: {held})"
        await self._audit(actor, Action.DEPLOY, app.name, "forced", detail=detail)

    async def _await_approval(
        self, app: AppConfig, request: Deploy, actor: Actor, card: Card
    ) -> None:
        """No separate publish: nothing is triggered until an approver clicks."""
        root_ts = await self._thread.open(actor.channel, card.but(waiting_for=app.approvers))
        row = await self._track(
            app, actor, root_ts, request.ref, env=request.env, approval=Approval.PENDING
        )
        overrides = f" {overridden(request.env)}" if request.env else ""
        approvers = ", ".join(f"<@{a}>" for a in app.approvers)
        text = (
            f":raised_hand: <@{actor.user}> asks to deploy *{app.name}* "
            f"({ref_words(card.ref)}).{overrides} "
            f"Nothing is triggered until an approver clicks Approve.\n{approvers}: approve it?"
        )
        await self._thread.prompt(row, text, approve_label="Approve")
        detail = "waiting for approval" + (f"; {_audited_keys(request.env)}" if request.env else "")
        await self._audit(actor, Action.DEPLOY, app.name, "ok", detail=detail)


def overridden(env: Mapping[str, str]) -> str:
    """The keys a deploy overrides, for its thread: names only, never values."""
    keys = ", ".join(f"`{key}`" for key in env)
    return f":gear: Overridden for this deploy: {keys} (values are not shown)."


def _audited_keys(env: Mapping[str, str]) -> str:
    return f"overrides: {', '.join(env)}" if env else ""
