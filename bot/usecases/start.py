"""Starting a deploy, the one way: a fresh `/deploy` and a deploy leaving the line both come
here to break glass, trigger (or ask the approvers first), follow and audit it, so the two can
never say or do different things."""

from __future__ import annotations

from collections.abc import Mapping

from bot.config.apps import AppConfig
from bot.models import Action, Tracked
from bot.mrkdwn import escape
from bot.providers.base import Provider, ProviderError, maybe_sent
from bot.render.blocks import card_ref
from bot.store import Store
from bot.thread import Thread
from bot.usecases.common import Actor, Audit, overrides


class Starting:
    def __init__(
        self, providers: Mapping[str, Provider], store: Store, thread: Thread, audit: Audit
    ) -> None:
        self._providers = providers
        self._store = store
        self._thread = thread
        self._audit = audit

    def by_approval(self, app: AppConfig) -> bool:
        """Nothing is triggered before an approver clicks: the app needs an approval and its
        provider has no separate publish (Nometria)."""
        return app.approval and "publish" not in self._providers[app.name].supports

    async def break_glass(
        self,
        app: AppConfig,
        actor: Actor,
        held: str,
        reason: str,
        *,
        row: Tracked | None = None,
        action: Action = Action.DEPLOY,
        deployment_id: str | None = None,
    ) -> None:
        """Putting a build live through a freeze or a lock is said and audited: to the whole
        channel when it is asked for (a deploy, or the `publish`/`restart` of `deployment_id`),
        in its thread when a deploy asked with `--force` leaves the line."""
        if row is None:
            doing = {Action.PUBLISH: "publishing", Action.RESTART: "restarting"}.get(action)
            what = f"{doing} `{deployment_id}` of" if doing else "deploying"
            text = (
                f":rotating_light: <@{actor.user}> is {what} *{app.name}* anyway. {held}\n"
                f"Their reason: {escape(reason)}"
            )
            await self._thread.announce(actor.channel, text)
            detail = f"break glass: {reason} (held: {held})"
        else:
            text = f":rotating_light: Deploying through what holds deploys now. {held}"
            await self._thread.say(row, f"{text}\nThe reason given: {escape(reason)}")
            detail = f"break glass in its turn: {reason} (held: {held})"
        await self._audit(
            actor, action, app.name, "forced", deployment_id=deployment_id, detail=detail
        )

    async def start(self, app: AppConfig, row: Tracked, *, turn: bool = False) -> None:
        """Start the deploy `row` records (its root posted, nothing triggered yet): ask the
        approvers first (`by_approval`), or trigger it and follow it in its thread.

        `turn`: it waited in line. A provider's refusal is said in the thread, the row ends
        (the app is free again), and the ProviderError goes on to whoever audits failures.
        """
        requester = Actor(row.requester, row.channel)
        said = ["its turn"] if turn else []
        if self.by_approval(app):
            await self._prompt(app, row)
            detail = "; ".join([*said, "waiting for approval", *_audited_keys(row.env)])
            await self._audit(requester, Action.DEPLOY, app.name, "ok", detail=detail)
            return
        try:
            env = overrides(self._store, row)
            deployment = await self._providers[app.name].trigger(
                ref=row.ref, env_vars=env, publish=not app.approval
            )
        except ProviderError as exc:
            if maybe_sent(exc):
                await self._unsure(app, row, exc)
                raise
            await self._store.drop_untriggered(row.id)
            card = self._thread.card(row)
            await self._thread.could_not_start(card, row.channel, row.root_ts, exc)
            raise
        await self._store.triggered(
            row.id, deployment_id=deployment.id, status=deployment.status, ref=deployment.ref
        )
        await self._thread.started(await self._store.get(row.id) or row, deployment)
        if env:
            await self._thread.say(row, overridden(env))
        await self._audit(
            requester,
            Action.DEPLOY,
            app.name,
            "ok",
            deployment_id=deployment.id,
            detail="; ".join([*said, *_audited_keys(env)]),
        )

    async def _unsure(self, app: AppConfig, row: Tracked, exc: ProviderError) -> None:
        """The trigger may have reached the provider: the start is left holding its app, for
        the poller to adopt what the provider has from it, or to end it, once its lease has run
        out (bot/usecases/recover.py); never triggered again blindly."""
        provider = app.provider.capitalize()
        await self._thread.say(
            row,
            f":grey_question: {provider} gave no clear answer to the trigger ({exc}), so it may "
            f"have started. I look for it in {provider}'s list shortly and say here what I find.",
        )

    async def _prompt(self, app: AppConfig, row: Tracked) -> None:
        """The approvers are asked in the thread; nothing is triggered until one clicks."""
        ref = card_ref(self._thread.card(row))
        keys = f" {overridden(row.env)}" if row.env else ""
        approvers = ", ".join(f"<@{a}>" for a in app.approvers)
        text = (
            f":raised_hand: <@{row.requester}> asks to deploy *{app.name}* "
            f"({ref}).{keys} "
            "Nothing is triggered until an approver clicks Approve.\n"
            f"{await self._thread.what_changes(app, None, row.ref)}\n{approvers}: approve it?"
        )
        await self._thread.prompt(row, text, approve_label="Approve")


def overridden(env: Mapping[str, str]) -> str:
    """The keys a deploy overrides, for its thread: names only, never values."""
    keys = ", ".join(f"`{key}`" for key in env)
    return f":gear: Overridden for this deploy: {keys} (values are not shown)."


def _audited_keys(env: Mapping[str, str]) -> list[str]:
    return [f"overrides: {', '.join(env)}"] if env else []
