"""The Door's clicks on message buttons and the rollback form (`Clicks`, a part of the Door):
each becomes one policy check, then one use-case, audited as every request through the Door."""

from __future__ import annotations

from dataclasses import replace

from slack_sdk.models.views import View

from bot.commands.usage import UsageError
from bot.config import Config
from bot.config.apps import AppConfig
from bot.config.freezes import frozen
from bot.door.audited import Subject, app_named, audited
from bot.door.cases import UseCases
from bot.models import Action, Clock
from bot.policy import Ask, NotAllowed, Policy
from bot.policy.wording import locked_by
from bot.render import blocks, history_blocks
from bot.render.blocks import Message
from bot.store import Store
from bot.usecases.common import Actor, Audit, button_row
from bot.usecases.rollback import Plan, Tell


class Clicks:
    def __init__(
        self,
        config: Config,
        store: Store,
        policy: Policy,
        audit: Audit,
        cases: UseCases,
        *,
        clock: Clock,
    ) -> None:
        self._config = config
        self._now = clock
        self._store = store
        self._policy = policy
        self._audit = audit
        self._cases = cases

    async def click(self, action_id: str, value: str, actor: Actor) -> Message | None:
        subject = Subject()
        handlers = {
            blocks.APPROVE: (
                Action.APPROVE,
                lambda: self._decide(Action.APPROVE, value, actor, subject),
            ),
            blocks.DISCARD: (
                Action.DISCARD,
                lambda: self._decide(Action.DISCARD, value, actor, subject),
            ),
            blocks.CANCEL: (Action.CANCEL, lambda: self._cancel(value, actor)),
        }
        if action_id not in handlers:
            raise NotAllowed("That button is not one of mine; nothing was done.")
        action, run = handlers[action_id]
        return await audited(self._audit, action, subject, actor, run)

    async def _decide(self, action: Action, value: str, actor: Actor, subject: Subject) -> None:
        approving = self._cases.approve
        row = await approving.clicked(value, actor)
        subject.app, subject.deployment_id = row.app, row.deployment_id
        row = await approving.undecided(row)
        app = app_named(self._config.apps, row.app)
        ask = Ask(action, app, actor.user, actor.channel, requester=row.requester)
        if action is Action.APPROVE:  # it puts the build live: what holds deploys holds it
            lock = await self._store.locks.get(app.name)
            freeze = frozen(self._config.freezes, app.name, self._now())
            ask = replace(ask, lock=lock, freeze=freeze, deployment_id=row.deployment_id)
        self._policy.check(ask)
        if action is Action.APPROVE:
            await approving.approve(row, actor)
        else:
            await approving.discard(row, actor)

    async def _cancel(self, value: str, actor: Actor) -> None:
        """The deploy whose root the button is on (a button posted before that named its row)."""
        if value == blocks.CANCEL_THIS and actor.message_ts:
            row = await self._store.line.at_root(actor.channel, actor.message_ts)
        else:
            row = await button_row(self._store, value)
        if row is None or row.app not in self._config.apps:
            raise NotAllowed("That Cancel button names no deploy of mine; nothing was done.")
        app = app_named(self._config.apps, row.app)
        self._policy.check(
            Ask(Action.CANCEL, app, actor.user, actor.channel, requester=row.requester)
        )
        await self._cases.queue.cancel(row, actor)

    async def rollback_form(self, value: str, actor: Actor, metadata: str) -> View:
        """The rollback button's click: who may is checked before the form asking why opens."""

        subject = Subject()

        async def form() -> View:
            plan, app = self._plan(value, subject)
            self._policy.check(Ask(Action.ROLLBACK, app, actor.user, actor.channel))
            lock = await self._store.locks.get(app.name)  # kept by the rollback, as it says
            return history_blocks.rollback_reason(
                app.name,
                plan.current,
                plan.target,
                metadata,
                locked=locked_by(lock) if lock else None,
            )

        return await audited(self._audit, Action.ROLLBACK, subject, actor, form)

    async def rollback(self, value: str, reason: str, actor: Actor, *, tell: Tell) -> None:
        """The form was sent with a reason: roll back (the policy is checked again); `tell`
        says where to follow it, before anything is said there."""
        subject = Subject()
        await audited(
            self._audit,
            Action.ROLLBACK,
            subject,
            actor,
            lambda: self._rollback(value, reason, actor, subject, tell),
        )

    def _plan(self, value: str, subject: Subject) -> tuple[Plan, AppConfig]:
        plan = Plan.parse(value)
        subject.app, subject.deployment_id = plan.app, plan.target
        try:
            return plan, app_named(self._config.apps, plan.app)
        except UsageError:
            raise NotAllowed(
                "That rollback button names no app of mine; nothing was done."
            ) from None

    async def _rollback(
        self, value: str, reason: str, actor: Actor, subject: Subject, tell: Tell
    ) -> None:
        plan, app = self._plan(value, subject)
        self._policy.check(Ask(Action.ROLLBACK, app, actor.user, actor.channel))
        await self._cases.rollback.confirm(plan, app, actor, reason, tell=tell)
