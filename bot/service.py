"""The use-cases' front door: one dispatch for commands and clicks, with the audit in one place."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from bot import blocks, commands
from bot.approvals import Approvals
from bot.commands import UsageError
from bot.config import AppConfig
from bot.context import Actor, Deps, Reply
from bot.flow import Flow
from bot.operations import Operations
from bot.policy import NotAllowed
from bot.providers.base import ProviderError
from bot.store import Store, Tracked


class Service:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps
        self.flow = Flow(deps)
        self.approvals = Approvals(deps, self.flow)
        self.ops = Operations(deps, self.flow, self.approvals)
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

    @property
    def store(self) -> Store:
        return self.deps.store

    def app(self, name: str) -> AppConfig:
        return self.deps.app(name)

    async def command(self, request: commands.Command, actor: Actor) -> Reply | None:
        """Carry out a parsed `/deploy`; refusals and failures are audited, then raised."""
        if isinstance(request, commands.Help):
            return Reply(blocks.help_text())
        if isinstance(request, commands.Apps):
            return await self.ops.apps(actor)
        action = request.verb if isinstance(request, commands.Operate) else type(request).__name__
        return await self._audited(
            action.lower(),
            request.app,
            actor,
            lambda: self._run(request, actor),
            deployment_id=getattr(request, "deployment_id", None),
        )

    async def _run(self, request: commands.AppCommand, actor: Actor) -> Reply | None:
        match request:
            case commands.Deploy():
                return await self.flow.deploy(request, actor)
            case commands.Status():
                return await self.ops.status(request.app)
            case commands.Lock():
                return await self.ops.lock(request, actor)
            case commands.Unlock():
                return await self.ops.unlock(request, actor)
            case commands.Rollback():
                return await self.ops.prepare_rollback(request, actor)
            case commands.Operate():
                return await self.ops.operate(request, actor)

    async def click(self, action_id: str, value: str, actor: Actor) -> Reply | None:
        handlers = {
            blocks.APPROVE: ("approve", lambda: self.approvals.approve(value, actor)),
            blocks.DISCARD: ("discard", lambda: self.approvals.discard(value, actor)),
            blocks.ROLLBACK: ("rollback", lambda: self.ops.rollback(value, actor)),
        }
        if action_id not in handlers:
            raise NotAllowed("That button is not one of mine; nothing was done.")
        action, run = handlers[action_id]
        return await self._audited(action, None, actor, run)

    async def _audited(
        self,
        action: str,
        app: str | None,
        actor: Actor,
        run: Callable[[], Awaitable[Reply | None]],
        *,
        deployment_id: str | None = None,
    ) -> Reply | None:
        error: Exception
        try:
            return await run()
        except (NotAllowed, UsageError) as exc:
            outcome, error = "refused", exc
        except ProviderError as exc:
            outcome, error = "failed", exc
        await self.deps.audit(
            actor, action, app, outcome, deployment_id=deployment_id, detail=str(error)
        )
        raise error

    async def refresh(self, row: Tracked) -> None:
        await self.flow.refresh(row)
