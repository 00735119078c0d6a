"""The front door: a command or a click becomes one policy check, then one use-case; refusals
and failures are audited in one place (bot/door/audited.py). Clicks on message buttons and the
rollback form are the Door's `clicks` (bot/door/clicks.py)."""

from __future__ import annotations

import asyncio
from collections.abc import Collection

from bot import commands
from bot.commands.usage import UsageError
from bot.config import Config
from bot.config.apps import AppConfig
from bot.config.freezes import frozen
from bot.door.audited import Subject, app_named, audited
from bot.door.cases import UseCases
from bot.door.clicks import Clicks
from bot.models import Action, Clock
from bot.policy import Ask, NotAllowed, Policy, Refused, held_by
from bot.providers.base import ProviderError
from bot.render import guide, home_view
from bot.render.blocks import Message
from bot.store import Store
from bot.usecases.common import Actor, Audit

_ACTIONS: dict[type, Action] = {
    commands.Deploy: Action.DEPLOY,
    commands.StatusOf: Action.STATUS,
    commands.History: Action.HISTORY,
    commands.Stats: Action.STATS,
    commands.Lock: Action.LOCK,
    commands.Unlock: Action.UNLOCK,
    commands.Rollback: Action.ROLLBACK,
}
# What puts a build live is held by a lock or a freeze (an Approve click too: bot/door/clicks.py).
_HELD = frozenset({Action.DEPLOY, Action.RESTART, Action.PUBLISH})
_LOCK_MATTERS = _HELD | {Action.LOCK, Action.UNLOCK}


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
        self.clicks = Clicks(config, store, policy, audit, cases, clock=clock)

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
        return await self._store.claims.take(f"request:{key}")

    @property
    def apps(self) -> Collection[str]:
        """The app names a command may give."""
        return self._config.apps.keys()

    def app(self, name: str) -> AppConfig:
        """The app a command names, or a UsageError with a "did you mean"."""
        return app_named(self._config.apps, name)

    async def command(self, request: commands.Command, actor: Actor) -> Message | None:
        """Carry out a parsed `/deploy`; refusals and failures are audited, then raised."""
        if isinstance(request, commands.Help):
            return Message(guide.help_text())
        if isinstance(request, commands.Apps):
            return await self._cases.report.apps(actor)
        if isinstance(request, commands.Operate):
            action = Action(request.verb)
        else:
            action = _ACTIONS[type(request)]
        subject = Subject(request.app, getattr(request, "deployment_id", None))
        return await audited(
            self._audit, action, subject, actor, lambda: self._run(request, action, actor)
        )

    async def _run(  # noqa: PLR0911 - one return per command
        self, request: commands.AppCommand, action: Action, actor: Actor
    ) -> Message | None:
        app = self.app(request.app)
        lock = await self._store.locks.get(app.name) if action in _LOCK_MATTERS else None
        freeze = frozen(self._config.freezes, app.name, self._now()) if action in _HELD else None
        requester, force, dep_id = None, None, None
        if isinstance(request, commands.Deploy | commands.Operate):
            force = request.force
        if isinstance(request, commands.Operate):
            dep_id = request.deployment_id
        if action is Action.PUBLISH and dep_id is not None:
            row = await self._store.find(app.name, dep_id)
            if row is not None and row.pending:  # the row says so, whether or not prompted yet
                requester = row.requester  # publishing it is approving it
        ask = Ask(action, app, actor.user, actor.channel, lock, requester, freeze, force, dep_id)
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
                return await cases.operate(request, app, actor, held=held_by(ask))

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
        except Exception as exc:  # noqa: BLE001 - Slack refused what it posts: said, not silent
            notice = await home.failed(self.app(name), action_id, exc)
        await home.show(user, notice)

    async def _home_action(self, action_id: str, name: str, user: str) -> str:
        app = self.app(name)
        if action_id == home_view.HOME_UNLOCK:
            lock = await self._store.locks.get(app.name)
            where = lock.channel if lock else ""
            await self.command(commands.Unlock(app.name), Actor(user, where))  # said there
            return f":unlock: You unlocked *{app.name}*."  # said on your own Home tab
        channel = await self._cases.home.channel_for(app)
        if channel is None:
            verb = "rollback " if action_id == home_view.HOME_ROLLBACK else ""
            raise Refused(
                f"`{app.name}` has no `channels` in the apps file, so I cannot tell which "
                "channel may see its thread (not one you may not be in): type "
                f"`/deploy {verb}{app.name}` in the channel where its thread should be."
            )
        actor = Actor(user, channel)
        if action_id == home_view.HOME_DEPLOY:
            await self._cases.home.asked_for(app.name, channel, user)  # both must be in it
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

        await audited(self._audit, Action.ROLLBACK, Subject(app.name), actor, run)
        return (
            f":rewind: The rollback of *{app.name}* waits for your confirmation in "
            f"<#{actor.channel}>: it shows from and to, and asks why, before anything changes."
        )
