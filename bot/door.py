"""The front door: a command or a click becomes one policy check, then one use-case; refusals
and failures are audited here, in one place."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass
from typing import TypeVar

from slack_sdk.models.views import View

from bot import blocks, commands, history_blocks, home_view
from bot.blocks import Message
from bot.config import AppConfig, Config
from bot.freezes import frozen
from bot.models import Action, Clock
from bot.policy import Ask, NotAllowed, Policy, Refused, held_by
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

_ACTIONS: dict[type, Action] = {
    commands.Deploy: Action.DEPLOY,
    commands.StatusOf: Action.STATUS,
    commands.History: Action.HISTORY,
    commands.Stats: Action.STATS,
    commands.Lock: Action.LOCK,
    commands.Unlock: Action.UNLOCK,
    commands.Rollback: Action.ROLLBACK,
}
T = TypeVar("T")
_LOCK_MATTERS = frozenset({Action.DEPLOY, Action.RESTART, Action.LOCK, Action.UNLOCK})


@dataclass
class _Subject:
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


class Door:
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
        self._working: set[asyncio.Task[object]] = set()

    def working(self) -> None:
        """Mark the current task (a listener after its ack) as work a shutdown should finish."""
        task = asyncio.current_task()
        if task is not None:
            self._working.add(task)
            task.add_done_callback(self._working.discard)

    async def drain(self, within: float = 10.0) -> None:
        """Let listeners that already acknowledged finish what they promised."""
        if self._working:
            await asyncio.wait(set(self._working), timeout=within)

    async def first_time(self, key: str) -> bool:
        """True for the first copy of a request Slack may send again."""
        return await self._store.claim(f"request:{key}")

    @property
    def apps(self) -> Collection[str]:
        """The app names a command may give."""
        return self._config.apps.keys()

    def app(self, name: str) -> AppConfig:
        app = self._config.apps.get(name)
        if app is not None:
            return app
        raise no_such_app(name, self._config.apps, USAGE["deploy"])

    async def command(self, request: commands.Command, actor: Actor) -> Message | None:
        """Carry out a parsed `/deploy`; refusals and failures are audited, then raised."""
        if isinstance(request, commands.Help):
            return Message(blocks.help_text())
        if isinstance(request, commands.Apps):
            return await self._cases.report.apps(actor)
        if isinstance(request, commands.Operate):
            action = Action(request.verb)
        else:
            action = _ACTIONS[type(request)]
        subject = _Subject(request.app, getattr(request, "deployment_id", None))
        return await self._audited(
            action, subject, actor, lambda: self._run(request, action, actor)
        )

    async def _run(  # noqa: PLR0911 - one return per command
        self, request: commands.AppCommand, action: Action, actor: Actor
    ) -> Message | None:
        app = self.app(request.app)
        lock = await self._store.lock_of(app.name) if action in _LOCK_MATTERS else None
        requester = None
        if isinstance(request, commands.Operate) and action is Action.PUBLISH:
            row = await self._store.find(app.name, request.deployment_id)
            if row is not None and row.pending and row.prompt_ts:
                requester = row.requester  # publishing it is approving it
        freeze, force = None, None
        if isinstance(request, commands.Deploy):
            freeze = frozen(self._config.freezes, app.name, self._now())
            force = request.force
        ask = Ask(action, app, actor.user, actor.channel, lock, requester, freeze, force)
        self._policy.check(ask)
        cases = self._cases
        match request:
            case commands.Deploy():
                await cases.deploy(request, app, actor, held=held_by(ask))
                return None
            case commands.StatusOf():
                return await cases.report.status(app)
            case commands.History():
                return await cases.report.history(app)
            case commands.Stats():
                return await cases.report.stats(app, request.days)
            case commands.Lock():
                await cases.operate.lock(request, app, actor)
                return None  # said in the channel, once
            case commands.Unlock():
                assert lock is not None  # the policy refuses to unlock what is not locked
                await cases.operate.unlock(app, lock, actor)
                return None
            case commands.Rollback():
                return await cases.rollback.prepare(app, request.deployment_id)
            case commands.Operate():
                return await cases.operate(request, app, actor)

    async def click(self, action_id: str, value: str, actor: Actor) -> Message | None:
        subject = _Subject()
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

    async def _decide(self, action: Action, value: str, actor: Actor, subject: _Subject) -> None:
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

        subject = _Subject()

        async def form() -> View:
            plan, app = self._plan(value, subject)
            self._policy.check(Ask(Action.ROLLBACK, app, actor.user, actor.channel))
            return history_blocks.rollback_reason(app.name, plan.current, plan.target, metadata)

        return await self._audited(Action.ROLLBACK, subject, actor, form)

    async def rollback(self, value: str, reason: str, actor: Actor) -> Message | None:
        """The form was sent with a reason: roll back (the policy is checked again)."""
        subject = _Subject()
        return await self._audited(
            Action.ROLLBACK, subject, actor, lambda: self._rollback(value, reason, actor, subject)
        )

    def _plan(self, value: str, subject: _Subject) -> tuple[Plan, AppConfig]:
        plan = Plan.parse(value)
        subject.app, subject.deployment_id = plan.app, plan.target
        try:
            return plan, self.app(plan.app)
        except UsageError:
            raise NotAllowed(
                "That rollback button names no app of mine; nothing was done."
            ) from None

    async def _rollback(self, value: str, reason: str, actor: Actor, subject: _Subject) -> Message:
        plan, app = self._plan(value, subject)
        self._policy.check(Ask(Action.ROLLBACK, app, actor.user, actor.channel))
        return await self._cases.rollback.confirm(plan, app, actor, reason)

    async def home_idle(self) -> None:
        """Let a Home tab refresh under way finish (shutdown, tests)."""
        await self._cases.home.idle()

    async def home_stop(self) -> None:
        await self._cases.home.stop()

    async def home_opened(self, user: str) -> None:
        await self._cases.home.opened(user)

    async def home_click(self, action_id: str, name: str, user: str) -> None:
        """A button on the Home tab; what came of it is said at the top of the refreshed tab."""
        home = self._cases.home
        try:
            notice = await self._home_action(action_id, name, user)
        except (NotAllowed, Refused, UsageError, ProviderError) as exc:
            notice = f":no_entry: {exc}"
        await home.show(user, notice)

    async def _home_action(self, action_id: str, name: str, user: str) -> str:
        app = self.app(name)
        if action_id == home_view.HOME_UNLOCK:
            lock = await self._store.lock_of(app.name)
            where = lock.channel if lock else ""
            await self.command(commands.Unlock(app.name), Actor(user, where))  # said there
            return f":unlock: *{app.name}* is unlocked by <@{user}>."
        channel = await self._cases.home.channel_for(app)
        if channel is None:
            raise Refused(
                f"`{app.name}` was never deployed from a channel: type `/deploy {app.name}` "
                "in the channel where its thread should be."
            )
        actor = Actor(user, channel)
        if action_id == home_view.HOME_DEPLOY:
            await self.command(commands.Deploy(app.name), actor)
            return f":rocket: Deploying *{app.name}*: follow it in <#{channel}>."
        if action_id == home_view.HOME_ROLLBACK:
            return await self._home_rollback(app, actor)
        raise NotAllowed("That button is not one of mine; nothing was done.")

    async def _home_rollback(self, app: AppConfig, actor: Actor) -> str:
        """The rollback's usual confirmation (from -> to, then the form asking why), handed to
        the person in the app's channel: the Home tab has no place for it."""

        async def run() -> Message:
            # From the Home tab no incident channel applies: approvers only.
            self._policy.check(Ask(Action.ROLLBACK, app, actor.user, channel=""))
            confirmation = await self._cases.rollback.prepare(app, None)
            await self._cases.home.whisper(actor.channel, actor.user, confirmation)
            return confirmation

        await self._audited(Action.ROLLBACK, _Subject(app.name), actor, run)
        return (
            f":rewind: The rollback of *{app.name}* waits for your confirmation in "
            f"<#{actor.channel}>: it shows from and to, and asks why, before anything changes."
        )

    async def _audited(
        self,
        action: Action,
        subject: _Subject,
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
