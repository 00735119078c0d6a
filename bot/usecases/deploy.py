"""Deploy: check what was asked, break glass if it was forced, then post the root and start it
(`usecases/start.py`), or wait in line behind the app's deployment in flight."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from bot.commands import Deploy
from bot.commands.deploy import commit_only
from bot.commands.usage import USAGE, UsageError
from bot.config.apps import AppConfig
from bot.models import Action, Approval, Kind, Status, Tracked
from bot.policy import Refused
from bot.providers.base import Provider
from bot.render.blocks import Card
from bot.store import Store
from bot.thread import Thread
from bot.usecases.common import Actor, Audit, Gate
from bot.usecases.start import Starting


class Deploying:
    def __init__(
        self,
        providers: Mapping[str, Provider],
        store: Store,
        thread: Thread,
        audit: Audit,
        gate: Gate,
        *,
        starting: Starting,
    ) -> None:
        self._providers = providers
        self._store = store
        self._thread = thread
        self._audit = audit
        self._gate = gate
        self._starting = starting

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
        if held is not None and request.force is not None:
            await self._starting.break_glass(app, actor, held, request.force)
        async with self._gate(app.name):
            busy = await self._store.line.busy(app.name)
            if request.env and not self._store.keeps_overrides:
                _may_not_wait(app, busy=busy, by_approval=self._starting.by_approval(app))
            row = None if busy else await self._take(app, request, actor)
            if row is None:  # busy, or another replica took it at this very moment
                if request.env and not self._store.keeps_overrides:
                    _may_not_wait(app, busy=True, by_approval=False)
                await self._wait(app, request, actor)
                return
        await self._start(app, request, actor, row)

    async def _take(self, app: AppConfig, request: Deploy, actor: Actor) -> Tracked | None:
        """The app, taken by recording this start before anything is posted or triggered."""
        return await self._store.slots.take(
            app=app.name,
            provider=app.provider,
            channel=actor.channel,
            root_ts="",  # posted next
            requester=actor.user,
            ref=request.ref,
            approval=Approval.PENDING if app.approval else None,
            env=request.env,
            triggering=not self._starting.by_approval(app),
        )

    async def _start(self, app: AppConfig, request: Deploy, actor: Actor, row: Tracked) -> None:
        """The app is ours: its root, then the one way a deploy starts, its lease kept."""
        by_approval = self._starting.by_approval(app)
        card = Card(
            app=app.name,
            provider=app.provider,
            requester=actor.user,
            ref=request.ref or app.default_branch,
            default_ref=request.ref is None,
            status=Status.QUEUED,
            waiting_for=app.approvers if by_approval else None,
        )
        async with self._store.slots.starting(row.id):
            try:
                root_ts = await self._thread.open(actor.channel, card)
            except Exception:  # nothing was triggered: the app is free again
                await self._store.drop_untriggered(row.id)
                raise
            await self._store.slots.set_root(row.id, root_ts)
            await self._starting.start(app, replace(row, root_ts=root_ts))

    async def _wait(self, app: AppConfig, request: Deploy, actor: Actor) -> None:
        """The app is deploying: this one waits in line; the poller starts it in its turn."""
        ahead = await self._store.line.waiting(app.name)
        card = Card(
            app=app.name,
            provider=app.provider,
            requester=actor.user,
            ref=request.ref or app.default_branch,
            default_ref=request.ref is None,
            status=Status.QUEUED,
            place=len(ahead) + 1,
        )
        root_ts = await self._thread.open(actor.channel, card)
        row = await self._track(
            app, actor, root_ts, request.ref, env=request.env, waiting=True, forced=request.force
        )
        line = await self._store.line.waiting(app.name)
        await self._thread.in_line(line)
        place = next((n for n, r in enumerate(line, 1) if r.id == row.id), len(line))
        text = (
            f":hourglass: *{app.name}* is already deploying, so this deploy waits its turn "
            f"(number {place} in line). It starts by itself when the ones before it end, "
            "checking locks, freezes and permissions again then. Nothing is triggered until then; "
            f"{_cancellers(app, actor.user)} can Cancel it above."
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
        env: Mapping[str, str] | None = None,
        waiting: bool = False,
        forced: str | None = None,
    ) -> Tracked:
        """A deploy `actor` asked for, followed from its root, waiting in line."""
        return await self._store.track(
            kind=Kind.DEPLOY,
            app=app.name,
            provider=app.provider,
            deployment_id=None,
            channel=actor.channel,
            root_ts=root_ts,
            requester=actor.user,
            ref=ref,
            status=Status.QUEUED,
            env=env,
            waiting=waiting,
            forced=forced,
            default_ref=ref is None,
        )


def _may_not_wait(app: AppConfig, *, busy: bool, by_approval: bool) -> None:
    """Without DEPLOYBOT_SECRET_KEY, override values live only in this process: a deploy that
    would wait with them (and lose them in a restart) is refused before anything is posted."""
    if not (busy or by_approval):
        return
    why = "waits for an approver" if by_approval else "is deploying, so this one would wait"
    raise Refused(
        f"*{app.name}* {why}, and KEY=VALUE overrides are kept while a deploy waits only when "
        "deploybot has a DEPLOYBOT_SECRET_KEY to seal them with: ask whoever runs deploybot to "
        "set one"
        + ("" if by_approval else f", or deploy again when {app.name} is free")
        + ". Nothing was deployed."
    )


def _cancellers(app: AppConfig, requester: str) -> str:
    """Who may take a deploy out of its line (the policy's cancel): its requester, or an
    approver; an app without approvers leaves it to anyone who may deploy it."""
    if not app.approvers:
        return f"<@{requester}> or anyone who may deploy *{app.name}*"
    names = [f"<@{u}>" for u in dict.fromkeys((requester, *app.approvers))]
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"
