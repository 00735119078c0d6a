"""Deploy: post the root, trigger (or wait for an approver), and follow it in the thread."""

from __future__ import annotations

from collections.abc import Mapping

from bot.blocks import Card, ref_words
from bot.commands import USAGE, Deploy, UsageError, commit_only
from bot.config import AppConfig
from bot.models import Action, Approval, Kind, Status
from bot.providers.base import Provider, ProviderError
from bot.store import Store
from bot.thread import Thread
from bot.usecases.common import Actor, Audit


class Deploying:
    def __init__(
        self, providers: Mapping[str, Provider], store: Store, thread: Thread, audit: Audit
    ) -> None:
        self._providers = providers
        self._store = store
        self._thread = thread
        self._audit = audit

    async def __call__(self, request: Deploy, app: AppConfig, actor: Actor) -> None:
        provider = self._providers[app.name]
        if request.env and "env" not in provider.supports:
            raise UsageError(
                f"`{app.name}` is on {app.provider}, which takes no KEY=VALUE overrides.",
                USAGE["deploy"],
            )
        if "commit_refs" in provider.supports:
            commit_only(app.name, request.ref)
        ref = request.ref or app.default_branch
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
        row = await self._store.track(
            kind=Kind.DEPLOY,
            app=app.name,
            provider=app.provider,
            deployment_id=deployment.id,
            channel=actor.channel,
            root_ts=root_ts,
            requester=actor.user,
            ref=ref or deployment.ref,  # the branch the provider chose, once it says
            status=deployment.status,
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

    async def _await_approval(
        self, app: AppConfig, request: Deploy, actor: Actor, card: Card
    ) -> None:
        """No separate publish: nothing is triggered until an approver clicks."""
        root_ts = await self._thread.open(actor.channel, card.but(waiting_for=app.approvers))
        row = await self._store.track(
            kind=Kind.DEPLOY,
            app=app.name,
            provider=app.provider,
            deployment_id=None,
            channel=actor.channel,
            root_ts=root_ts,
            requester=actor.user,
            ref=request.ref,
            env=request.env,
            status=Status.QUEUED,
            approval=Approval.PENDING,
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
