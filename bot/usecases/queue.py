"""One deployment per app at a time: start the next deploy in line when the app is free (the
poller asks each tick), checking locks, freezes and permissions again; or cancel one in line."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from enum import Enum, auto

from bot.config import AppConfig, Config
from bot.freezes import frozen
from bot.home_blocks import escape
from bot.models import Action, Approval, Clock, Status, Tracked
from bot.policy import Ask, NotAllowed, Policy, Refused, held_by
from bot.providers.base import Provider, ProviderError
from bot.store import Store
from bot.thread import Thread
from bot.usecases.common import Actor, Audit, Gate

log = logging.getLogger(__name__)


class _Turn(Enum):
    STARTED = auto()  # it is the app's deployment in flight now (or waits for its approval)
    TAKEN = auto()  # someone else took it out of the line first
    SKIPPED = auto()  # refused or failed to start: the next in line may go


class Queueing:
    def __init__(
        self,
        config: Config,
        providers: Mapping[str, Provider],
        store: Store,
        thread: Thread,
        audit: Audit,
        *,
        policy: Policy,
        gate: Gate,
        clock: Clock,
    ) -> None:
        self._config = config
        self._providers = providers
        self._store = store
        self._thread = thread
        self._audit = audit
        self._policy = policy
        self._gate = gate
        self._now = clock

    async def start_waiting(self) -> None:
        """For each app whose deployment in flight has ended, start the next in line."""
        for name in dict.fromkeys(row.app for row in await self._store.in_line()):
            app = self._config.apps.get(name)
            if app is None:
                log.warning("%s is gone from the config; its line waits", name)
                continue
            await self.start_next(app)

    async def start_next(self, app: AppConfig) -> None:
        async with self._gate(app.name):
            if await self._store.busy(app.name, line=False):
                return
            for row in await self._store.in_line(app.name):
                if await self._start(row, app) is not _Turn.SKIPPED:
                    break
            await self._thread.in_line(await self._store.in_line(app.name))

    async def cancel(self, row: Tracked, actor: Actor) -> None:
        """Take a deploy out of the line before it started; nothing was triggered."""
        if not row.waiting or not await self._store.leave_line(row.id, status=Status.STOPPED):
            raise Refused("That deploy is no longer waiting (it started, or was cancelled).")
        note = f"Cancelled by <@{actor.user}> before it started."
        await self._thread.update(row, self._thread.card(row).but(status=Status.STOPPED, note=note))
        await self._thread.say(
            row,
            f":x: <@{actor.user}> cancelled this deploy while it waited; nothing was triggered.",
        )
        await self._thread.in_line(await self._store.in_line(row.app))
        await self._audit(actor, Action.CANCEL, row.app, "ok", detail="left the line")

    async def _start(self, row: Tracked, app: AppConfig) -> _Turn:
        requester = Actor(user=row.requester, channel=row.channel)
        lock = await self._store.lock_of(app.name)
        freeze = frozen(self._config.freezes, app.name, self._now())
        ask = Ask(
            Action.DEPLOY, app, row.requester, row.channel, lock, freeze=freeze, force=row.forced
        )
        try:
            self._policy.check(ask)
        except (NotAllowed, Refused) as exc:
            return await self._refused(row, requester, exc)
        provider = self._providers[app.name]
        by_approval = app.approval and "publish" not in provider.supports
        approval = Approval.PENDING if app.approval else None
        if not await self._store.leave_line(row.id, status=Status.QUEUED, approval=approval):
            return _Turn.TAKEN
        row = await self._store.get(row.id) or row
        await self._thread.say(row, f":arrow_forward: <@{row.requester}>, its turn came.")
        held = held_by(ask)
        if held is not None and row.forced is not None:  # the break glass holds in its turn
            text = f":rotating_light: Deploying through what holds deploys now. {held}"
            await self._thread.say(row, f"{text}\nThe reason given: {escape(row.forced)}")
            detail = f"break glass in its turn: {row.forced} (held: {held})"
            await self._audit(requester, Action.DEPLOY, app.name, "forced", detail=detail)
        if by_approval:
            await self._thread.update(row, self._thread.card(row))
            text = (
                f":raised_hand: <@{row.requester}> asks to deploy *{app.name}* "
                f"(`{row.ref or 'HEAD'}`). Nothing is triggered until an approver clicks Approve."
            )
            await self._thread.prompt(row, text, approve_label="Approve")
            return _Turn.STARTED
        try:
            deployment = await provider.trigger(
                ref=row.ref, env_vars=row.env, publish=not app.approval
            )
        except ProviderError as exc:
            await self._store.drop_untriggered(row.id)
            await self._thread.could_not_start(
                self._thread.card(row), row.channel, row.root_ts, exc
            )
            await self._audit(requester, Action.DEPLOY, app.name, "failed", detail=str(exc))
            return _Turn.SKIPPED
        await self._store.triggered(row.id, deployment_id=deployment.id, status=deployment.status)
        await self._thread.started(await self._store.get(row.id) or row, deployment)
        await self._audit(
            requester, Action.DEPLOY, app.name, "ok", deployment_id=deployment.id, detail="its turn"
        )
        return _Turn.STARTED

    async def _refused(self, row: Tracked, requester: Actor, exc: Exception) -> _Turn:
        if not await self._store.leave_line(row.id, status=Status.STOPPED):
            return _Turn.TAKEN
        note = f"Not started when its turn came: {exc}"
        await self._thread.update(row, self._thread.card(row).but(status=Status.STOPPED, note=note))
        await self._thread.say(
            row, f":no_entry: <@{row.requester}>, this deploy did not start in its turn: {exc}"
        )
        await self._audit(requester, Action.DEPLOY, row.app, "refused", detail=str(exc))
        return _Turn.SKIPPED
