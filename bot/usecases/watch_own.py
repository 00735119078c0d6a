"""The bot's own deployments, written down as seen before a look can take them for outside
ones: a start is marked in the store before the provider is asked, and the deployment it
answers with is seen in the transaction that ends the mark."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager

from bot.models import Deployment, LogLine
from bot.providers.base import Capability, Provider
from bot.store.watched import Watched


class MarksOwn:
    """A provider adapter whose new deployments are the bot's own (a trigger, a rollback)."""

    def __init__(self, inner: Provider, app: str, watched: Watched) -> None:
        self._inner = inner
        self._app = app
        self._watched = watched
        self.name = inner.name
        self.scope = inner.scope
        self.scope = inner.scope

    @property
    def supports(self) -> frozenset[Capability]:
        return self._inner.supports

    @asynccontextmanager
    async def _own(self) -> AsyncIterator[Callable[[Deployment], Deployment]]:
        start = await self._watched.starting(self._app)
        ours: list[str] = []

        def mine(deployment: Deployment) -> Deployment:
            ours.append(deployment.id)
            return deployment

        try:
            yield mine
        finally:
            await self._watched.started(start, self._app, ours)

    async def trigger(
        self, *, ref: str | None, env_vars: Mapping[str, str], publish: bool
    ) -> Deployment:
        async with self._own() as mine:
            return mine(await self._inner.trigger(ref=ref, env_vars=env_vars, publish=publish))

    async def rollback(self, target_id: str) -> Deployment:
        async with self._own() as mine:
            return mine(await self._inner.rollback(target_id))

    async def publish(self, deployment_id: str) -> None:
        await self._inner.publish(deployment_id)

    async def get(self, deployment_id: str) -> Deployment:
        return await self._inner.get(deployment_id)

    async def poll(self, deployment_id: str) -> Deployment:
        return await self._inner.poll(deployment_id)

    async def logs(self, deployment_id: str) -> list[LogLine]:
        return await self._inner.logs(deployment_id)

    async def history(self, *, limit: int = 20, ref: str | None = None) -> list[Deployment]:
        return await self._inner.history(limit=limit, ref=ref)

    async def newest(self) -> list[Deployment]:
        return await self._inner.newest()

    async def stop(self, deployment_id: str) -> None:
        await self._inner.stop(deployment_id)

    async def restart(self, deployment_id: str) -> None:
        await self._inner.restart(deployment_id)

    async def delete(self, deployment_id: str) -> None:
        await self._inner.delete(deployment_id)


def marking_own(
    adapters: Mapping[str, Provider], apps: list[str], watched: Watched
) -> dict[str, Provider]:
    """The adapters, those of watched apps marking the bot's own deployments."""
    return {
        name: MarksOwn(adapter, name, watched) if name in apps else adapter
        for name, adapter in adapters.items()
    }
