"""An ID a person types must name a deployment of the app: checked before anything is sent.

A Nometria key covers every project of the account, and one Stormkit key may reach several
environments: the provider would act on another app's deployment if asked. `Owned` wraps any
adapter so that every verb taking a deployment ID first reads that deployment and refuses one
that belongs to another project or environment (or to none), before any request about it.
"""

from __future__ import annotations

from collections.abc import Mapping

from bot.models import Deployment, LogLine
from bot.providers.base import Capability, NotFound, NotOurs, Operation, Provider


class Owned:
    """`inner`, bound to the app `app`, refusing IDs that are not the app's."""

    def __init__(self, inner: Provider, app: str) -> None:
        self.inner = inner
        self.app = app
        self.name = inner.name
        self.scope = inner.scope

    @property
    def supports(self) -> frozenset[Capability]:
        return self.inner.supports

    async def own(self, deployment_id: str) -> Deployment:
        """The deployment, read by its ID, if it is one of this app's; NotOurs otherwise."""
        not_ours = f"`{deployment_id}` is not a deployment of {self.app}"
        try:
            deployment = await self.inner.get(deployment_id)
        except NotOurs:
            raise
        except NotFound as exc:  # Stormkit answers 404 for another environment's deployment
            raise NotOurs(f"{not_ours}: {exc}", status=exc.status) from None
        if self.scope is not None and deployment.owner != self.scope:
            where = "project" if self.name == "nometria" else "environment"
            raise NotOurs(
                f"{not_ours}: it belongs to another {self.name.capitalize()} {where}, "
                "so nothing was done with it"
            )
        return deployment

    async def trigger(
        self, *, ref: str | None, env_vars: Mapping[str, str], publish: bool
    ) -> Deployment:
        return await self.inner.trigger(ref=ref, env_vars=env_vars, publish=publish)

    async def get(self, deployment_id: str) -> Deployment:
        return await self.own(deployment_id)

    async def poll(self, deployment_id: str) -> Deployment:
        """Only rows the bot follows are polled, each checked when it was taken in."""
        return await self.inner.poll(deployment_id)

    async def logs(self, deployment_id: str) -> list[LogLine]:
        await self.own(deployment_id)
        return await self.inner.logs(deployment_id)

    async def history(self, *, limit: int = 20, ref: str | None = None) -> list[Deployment]:
        return [d for d in await self.inner.history(limit=limit, ref=ref) if self._ours(d)]

    async def newest(self) -> list[Deployment]:
        return [d for d in await self.inner.newest() if self._ours(d)]

    async def publish(self, deployment_id: str) -> None:
        await self._owned("publish", deployment_id)
        await self.inner.publish(deployment_id)

    async def rollback(self, target_id: str) -> Deployment:
        await self._owned("rollback", target_id)
        return await self.inner.rollback(target_id)

    async def stop(self, deployment_id: str) -> None:
        await self._owned("stop", deployment_id)
        await self.inner.stop(deployment_id)

    async def restart(self, deployment_id: str) -> None:
        await self._owned("restart", deployment_id)
        await self.inner.restart(deployment_id)

    async def delete(self, deployment_id: str) -> None:
        await self._owned("delete", deployment_id)
        await self.inner.delete(deployment_id)

    def _ours(self, deployment: Deployment) -> bool:
        """In a list the provider filtered by project or environment: one it did not is left
        out (an answer that names none is taken as filtered)."""
        return self.scope is None or deployment.owner in {None, self.scope}

    async def _owned(self, operation: Operation, deployment_id: str) -> None:
        """An operation the provider lacks is refused by the adapter itself, sending nothing."""
        if operation in self.supports:
            await self.own(deployment_id)


def owned(adapters: Mapping[str, Provider]) -> dict[str, Provider]:
    """Every app's adapter, refusing the IDs of other apps' deployments."""
    return {app: Owned(adapter, app) for app, adapter in adapters.items()}
