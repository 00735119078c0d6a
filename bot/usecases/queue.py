"""One deployment per app at a time: start the next deploy in line when the app is free (the
poller asks each tick), checking locks, freezes and permissions again; or cancel one in line."""

from __future__ import annotations

import logging
from enum import Enum, auto

from bot.config import Config
from bot.config.apps import AppConfig
from bot.config.freezes import frozen
from bot.models import Action, Approval, Clock, Status, Tracked
from bot.policy import Ask, NotAllowed, Policy, Refused, held_by
from bot.providers.base import ProviderError
from bot.store import Store
from bot.thread import Thread
from bot.usecases.common import Actor, Audit, Gate
from bot.usecases.start import Starting

log = logging.getLogger(__name__)


class _Turn(Enum):
    STARTED = auto()  # it is the app's deployment in flight now (or waits for its approval)
    TAKEN = auto()  # someone else took it out of the line first
    SKIPPED = auto()  # refused or failed to start: the next in line may go


class Queueing:
    def __init__(
        self,
        config: Config,
        store: Store,
        thread: Thread,
        audit: Audit,
        *,
        policy: Policy,
        gate: Gate,
        clock: Clock,
        starting: Starting,
    ) -> None:
        self._config = config
        self._store = store
        self._thread = thread
        self._audit = audit
        self._policy = policy
        self._gate = gate
        self._now = clock
        self._starting = starting

    async def start_waiting(self) -> None:
        """For each app whose deployment in flight has ended, start the next in line."""
        for name in dict.fromkeys(row.app for row in await self._store.line.waiting()):
            app = self._config.apps.get(name)
            if app is None:
                log.warning("%s is gone from the config; its line waits", name)
                continue
            await self.start_next(app)

    async def start_next(self, app: AppConfig) -> None:
        async with self._gate(app.name):
            if await self._store.line.busy(app.name, line=False):
                return
            for row in await self._store.line.waiting(app.name):
                if await self._start(row, app) is not _Turn.SKIPPED:
                    break
            await self._thread.in_line(await self._store.line.waiting(app.name))

    async def cancel(self, row: Tracked, actor: Actor) -> None:
        """Take a deploy out of the line before it started; nothing was triggered."""
        cancelled = Status.CANCELLED
        if not row.waiting or not await self._store.line.leave(row.id, status=cancelled):
            raise Refused("That deploy is no longer waiting (it started, or was cancelled).")
        note = f"Cancelled by <@{actor.user}> before it started."
        await self._thread.update(row, self._thread.card(row).but(status=cancelled, note=note))
        await self._thread.say(
            row,
            f"{cancelled.emoji} <@{actor.user}> cancelled this deploy while it waited; "
            "nothing was triggered.",
        )
        await self._thread.in_line(await self._store.line.waiting(row.app))
        await self._audit(actor, Action.CANCEL, row.app, "ok", detail="left the line")

    async def _start(self, row: Tracked, app: AppConfig) -> _Turn:
        requester = Actor(user=row.requester, channel=row.channel)
        lock = await self._store.locks.get(app.name)
        freeze = frozen(self._config.freezes, app.name, self._now())
        ask = Ask(
            Action.DEPLOY, app, row.requester, row.channel, lock, freeze=freeze, force=row.forced
        )
        try:
            self._policy.check(ask)
        except (NotAllowed, Refused) as exc:
            return await self._refused(row, requester, exc)
        approval = Approval.PENDING if app.approval else None
        triggering = not self._starting.by_approval(app)
        if not await self._store.line.leave(
            row.id, status=Status.QUEUED, approval=approval, triggering=triggering
        ):
            return _Turn.TAKEN  # someone else took it out of the line, or took the app
        async with self._store.slots.starting(row.id):
            return await self._go(row, app, requester, ask)

    async def _go(self, row: Tracked, app: AppConfig, requester: Actor, ask: Ask) -> _Turn:
        """Out of the line, holding its app: the one way a deploy starts."""
        row = await self._store.get(row.id) or row
        await self._thread.update(row, self._thread.card(row))  # no longer "next in line"
        await self._thread.say(row, f":arrow_forward: <@{row.requester}>, its turn came.")
        held = held_by(ask)
        if held is not None and row.forced is not None:  # the break glass holds in its turn
            await self._starting.break_glass(app, requester, held, row.forced, row=row)
        try:
            await self._starting.start(app, row, turn=True)
        except ProviderError as exc:  # said in its thread; the poller has nobody to answer
            await self._audit(requester, Action.DEPLOY, app.name, "failed", detail=str(exc))
            return _Turn.SKIPPED
        return _Turn.STARTED

    async def _refused(self, row: Tracked, requester: Actor, exc: Exception) -> _Turn:
        if not await self._store.line.leave(row.id, status=Status.STOPPED):
            return _Turn.TAKEN
        note = f"Not started when its turn came: {exc}"
        await self._thread.update(row, self._thread.card(row).but(status=Status.STOPPED, note=note))
        await self._thread.say(
            row, f":no_entry: <@{row.requester}>, this deploy did not start in its turn: {exc}"
        )
        await self._audit(requester, Action.DEPLOY, row.app, "refused", detail=str(exc))
        return _Turn.SKIPPED
