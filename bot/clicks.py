"""The Door's clicks on message buttons and the rollback form, with what every request through
the Door shares: the app it names, and the audit of a refusal or failure (`Clicks`, a part of
the Door)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from slack_sdk.models.views import View

from bot import blocks, history_blocks
from bot.blocks import Message
from bot.config import AppConfig, Config
from bot.models import Action
from bot.policy import Ask, NotAllowed, Policy, Refused, locked_by
from bot.providers.base import ProviderError
from bot.store import Store
from bot.usage import USAGE, UsageError, no_such_app
from bot.usecases.approve import Approving
from bot.usecases.common import Actor, Audit
from bot.usecases.deploy import Deploying
from bot.usecases.home import Showing
from bot.usecases.operate import Operating
from bot.usecases.queue import Queueing
from bot.usecases.report import Reporting
from bot.usecases.rollback import Plan, RollingBack

T = TypeVar("T")


@dataclass
class Subject:
    """What a refusal is about, filled in as it becomes known (a click names only a row)."""

    app: str | None = None
    deployment_id: str | None = None


@dataclass(frozen=True)
class UseCases:
    deploy: Deploying
    approve: Approving
    rollback: RollingBack
    operate: Operating
    report: Reporting
    queue: Queueing
    home: Showing


class Clicks:
    _config: Config
    _store: Store
    _policy: Policy
    _audit: Audit
    _cases: UseCases

    def app(self, name: str) -> AppConfig:
        app = self._config.apps.get(name)
        if app is not None:
            return app
        raise no_such_app(name, self._config.apps, USAGE["deploy"])

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
        return await self._audited(action, subject, actor, run)

    async def _decide(self, action: Action, value: str, actor: Actor, subject: Subject) -> None:
        approving = self._cases.approve
        row = await approving.clicked(value, actor)
        subject.app, subject.deployment_id = row.app, row.deployment_id
        row = await approving.undecided(row)
        app = self.app(row.app)
        self._policy.check(Ask(action, app, actor.user, actor.channel, requester=row.requester))
        if action is Action.APPROVE:
            await approving.approve(row, actor)
        else:
            await approving.discard(row, actor)

    async def _cancel(self, value: str, actor: Actor) -> None:
        row = await self._store.get(int(value)) if value.isdigit() else None
        if row is None or row.app not in self._config.apps:
            raise NotAllowed("That Cancel button names no deploy of mine; nothing was done.")
        app = self.app(row.app)
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
            lock = await self._store.lock_of(app.name)  # kept by the rollback, as it says
            return history_blocks.rollback_reason(
                app.name,
                plan.current,
                plan.target,
                metadata,
                locked=locked_by(lock) if lock else None,
            )

        return await self._audited(Action.ROLLBACK, subject, actor, form)

    async def rollback(self, value: str, reason: str, actor: Actor) -> Message | None:
        """The form was sent with a reason: roll back (the policy is checked again)."""
        subject = Subject()
        return await self._audited(
            Action.ROLLBACK, subject, actor, lambda: self._rollback(value, reason, actor, subject)
        )

    def _plan(self, value: str, subject: Subject) -> tuple[Plan, AppConfig]:
        plan = Plan.parse(value)
        subject.app, subject.deployment_id = plan.app, plan.target
        try:
            return plan, self.app(plan.app)
        except UsageError:
            raise NotAllowed(
                "That rollback button names no app of mine; nothing was done."
            ) from None

    async def _rollback(self, value: str, reason: str, actor: Actor, subject: Subject) -> Message:
        plan, app = self._plan(value, subject)
        self._policy.check(Ask(Action.ROLLBACK, app, actor.user, actor.channel))
        return await self._cases.rollback.confirm(plan, app, actor, reason)

    async def _audited(
        self,
        action: Action,
        subject: Subject,
        actor: Actor,
        run: Callable[[], Awaitable[T]],
    ) -> T:
        error: Exception
        try:
            return await run()
        except (NotAllowed, Refused, UsageError) as exc:
            outcome, error = "refused", exc
        except ProviderError as exc:
            outcome, error = "failed", exc
        detail = str(error)
        await self._audit(
            actor,
            action,
            subject.app,
            outcome,
            deployment_id=subject.deployment_id,
            detail=detail,
        )
        raise error
