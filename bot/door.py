"""The front door: a command or a click becomes one policy check, then one use-case; refusals
and failures are audited in one place (`Clicks._audited`, in bot/clicks.py, a part of the Door)."""

from __future__ import annotations

import asyncio
from collections.abc import Collection

from bot import blocks, commands, home_view
from bot.blocks import Message
from bot.clicks import Clicks, Subject
from bot.clicks import UseCases as UseCases  # noqa: PLC0414 - still importable from here
from bot.config import AppConfig, Config
from bot.freezes import frozen
from bot.models import Action, Clock
from bot.policy import Ask, NotAllowed, Policy, Refused, held_by
from bot.providers.base import ProviderError
from bot.store import Store
from bot.usage import UsageError
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
_LOCK_MATTERS = frozenset({Action.DEPLOY, Action.RESTART, Action.LOCK, Action.UNLOCK})


class Door(Clicks):
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
        subject = Subject(request.app, getattr(request, "deployment_id", None))
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
            verb = "rollback " if action_id == home_view.HOME_ROLLBACK else ""
            raise Refused(
                f"`{app.name}` was never deployed from a channel, so there is none to follow it "
                f"in: type `/deploy {verb}{app.name}` in the channel where its thread should be."
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

        await self._audited(Action.ROLLBACK, Subject(app.name), actor, run)
        return (
            f":rewind: The rollback of *{app.name}* waits for your confirmation in "
            f"<#{actor.channel}>: it shows from and to, and asks why, before anything changes."
        )
