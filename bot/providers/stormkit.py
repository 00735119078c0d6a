"""Stormkit's deployments API (seeds/stormkit-deployments-api.txt)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import httpx
from pydantic import BaseModel

from bot.models import Deployment, LogLine, Status
from bot.providers.api import Api, Refusal, follow_pages
from bot.providers.base import (
    AuthError,
    Capability,
    NotFound,
    QuotaExceeded,
    Rejected,
)
from bot.providers.stormkit_shapes import StormkitDeployment

PAGE_SIZE = 20  # the list's fixed page: `from` moves on by this much
_KEY_REFUSED: Refusal = (
    AuthError,
    "Stormkit refused the API key: it is wrong, or lacks access to this environment",
)
_REFUSALS: dict[int, Refusal] = {
    401: _KEY_REFUSED,
    403: _KEY_REFUSED,
    402: (
        QuotaExceeded,
        "Stormkit build minutes are exhausted for this billing period: nothing was built",
    ),
    404: (NotFound, "Stormkit found no such environment or deployment for this key"),
}
_NO_ENV_OR_REPO = "Stormkit found no such environment, or cannot reach its repository"
# A 404 for a configured environment is rarely a typo in an id: Stormkit answers 404 when the
# key cannot see that environment (public/v1 looks deployments up within the key's env).
_SCOPE_HINT = (
    "most likely env_id {env} is wrong, or the key belongs to another app, team or environment"
)


class _One(BaseModel):
    deployment: StormkitDeployment


class _Page(BaseModel):
    deployments: list[StormkitDeployment]
    hasNextPage: bool = False  # noqa: N815


class _Poll(BaseModel):
    status: str


class Stormkit:
    """Bound to one environment: its key, and its id for keys above environment level."""

    name = "stormkit"
    supports: frozenset[Capability] = frozenset(
        {"publish", "rollback", "stop", "restart", "delete", "warm_up"}
    )

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        base_url: str,
        api_key: str,
        env_id: str | None,
        default_branch: str | None = None,
    ) -> None:
        self._api = Api(
            client,
            provider="Stormkit",
            base_url=base_url,
            api_key=api_key,
            scheme=None,
            refusals=_refusals(env_id),
            detail=_detail,
        )
        self._env_id = env_id
        self.scope = env_id  # without one, the key's own environment: Stormkit scopes by it
        self._default_branch = default_branch

    async def trigger(
        self, *, ref: str | None, env_vars: Mapping[str, str], publish: bool
    ) -> Deployment:
        if env_vars:
            raise Rejected("Stormkit takes no environment variable overrides for a deploy")
        body: dict[str, Any] = {"publish": publish}
        if branch := ref or self._default_branch:
            body["branch"] = branch
        if self._env_id:
            body["envId"] = self._env_id
        created = await self._api.call(
            "POST",
            "/v1/deploy",
            body=body,
            idempotent=False,
            meaning={404: _scoped(_NO_ENV_OR_REPO, self._env_id)},
        )
        return self._api.parse(StormkitDeployment, created).normalized(self._env_id)

    async def get(self, deployment_id: str, *, logs: bool = False) -> Deployment:
        deployment, now = await self._get(deployment_id, logs=logs)
        return deployment.normalized(self._env_id, now=now)

    async def poll(self, deployment_id: str) -> Deployment:
        payload = await self._api.call(
            "GET",
            f"/v1/deployments/{deployment_id}/poll",
            params=self._q(),
            meaning=self._missing(deployment_id),
        )
        if self._api.parse(_Poll, payload).status == "running":
            return Deployment(id=deployment_id, status=Status.BUILDING)
        return await self.get(deployment_id)

    async def logs(self, deployment_id: str) -> list[LogLine]:
        deployment, _ = await self._get(deployment_id, logs=True)
        lines = [
            LogLine(title=log.title, message=log.message, failed=not log.status)
            for log in deployment.logs or []
        ]
        # ?logs=true also returns the status checks run after the build: a failed one is
        # what failed the deployment, so its lines are quoted like a failed build step.
        lines += [
            LogLine(title=f"status check: {log.title}", message=log.message, failed=not log.status)
            for log in deployment.statusChecks or []
        ]
        if deployment.error:
            lines.append(LogLine(title="error", message=deployment.error, failed=True))
        return lines

    async def history(self, *, limit: int = 20, ref: str | None = None) -> list[Deployment]:
        """Newest first; `ref` is a branch, filtered by Stormkit."""
        params = self._q() | ({"branch": ref} if ref else {})

        async def fetch(start: int | None) -> tuple[list[Deployment], int | None]:
            query = params | ({"from": str(start)} if start else {})
            payload, now = await self._api.call_dated("GET", "/v1/deployments", params=query)
            page = self._api.parse(_Page, payload)
            found = [d.normalized(self._env_id, now=now) for d in page.deployments]
            return found, (start or 0) + PAGE_SIZE if page.hasNextPage else None

        return await follow_pages(fetch, limit)

    async def newest(self) -> list[Deployment]:
        """Stormkit's page has no size to ask for: its first 20, one request."""
        return await self.history(limit=PAGE_SIZE)

    async def publish(self, deployment_id: str) -> None:
        refused = f"deployment {deployment_id} has no successful build, so it cannot be published"
        await self._act("publish", deployment_id, refused, idempotent=True)

    async def rollback(self, target_id: str) -> Deployment:
        """Publishing an earlier deployment is Stormkit's rollback.

        Older servers move traffic at once; today's warm the deployment up first, and it is
        live only once published and warmed up: the poller follows it there.
        """
        await self.publish(target_id)
        return (await self.get(target_id)).publishing()

    async def stop(self, deployment_id: str) -> None:
        """Stormkit answers OK for a deployment that has already finished, and does nothing."""
        await self._act("stop", deployment_id, None, idempotent=True)

    async def restart(self, deployment_id: str) -> None:
        # Stormkit shows a stop as failed (and restarts it): both are said.
        refused = (
            f"deployment {deployment_id} has not failed: "
            "only a failed or stopped deployment can be restarted"
        )
        await self._act("restart", deployment_id, refused, idempotent=False)

    async def delete(self, deployment_id: str) -> None:
        # Sent once: a repeat after a lost answer would say 404 for what the first one deleted.
        await self._api.call(
            "DELETE",
            f"/v1/deployments/{deployment_id}",
            params=self._q(),
            idempotent=False,
            meaning=self._missing(deployment_id),
        )

    async def _act(
        self, action: str, deployment_id: str, refused: str | None, *, idempotent: bool
    ) -> None:
        """POST one of the deployment's actions.

        Stormkit answers {"ok": true}; a publish on today's server {"ok": true, "status":
        "publishing"}, as its warm-up has only begun. Neither says more: the body is not read.
        """
        await self._api.call(
            "POST",
            f"/v1/deployments/{deployment_id}/{action}",
            # The docs want envId in the body (overview) or the query (GETs), and say nothing
            # for these endpoints: both are sent.
            params=self._q(),
            body=self._q() or None,
            idempotent=idempotent,
            meaning=self._missing(deployment_id) | ({400: refused} if refused else {}),
        )

    async def _get(
        self, deployment_id: str, *, logs: bool
    ) -> tuple[StormkitDeployment, datetime | None]:
        params = self._q() | ({"logs": "true"} if logs else {})
        payload, now = await self._api.call_dated(
            "GET",
            f"/v1/deployments/{deployment_id}",
            params=params,
            meaning=self._missing(deployment_id),
        )
        return self._api.parse(_One, payload).deployment, now

    def _q(self) -> dict[str, str]:
        return {"envId": self._env_id} if self._env_id else {}

    def _missing(self, deployment_id: str) -> dict[int, str]:
        return {
            404: _scoped(
                f"Stormkit has no deployment {deployment_id} in this environment",
                self._env_id,
                names_id=True,
            )
        }


def _refusals(env_id: str | None) -> dict[int, Refusal]:
    kind, sentence = _REFUSALS[404]
    return _REFUSALS | {404: (kind, _scoped(sentence, env_id))}


def _scoped(sentence: str, env_id: str | None, *, names_id: bool = False) -> str:
    """With an env_id configured, a 404 most likely means the key cannot see that environment."""
    if env_id is None:
        return sentence
    hint = _SCOPE_HINT.format(env=env_id)
    return f"{sentence}: {'if the id is right, ' if names_id else ''}{hint}"


def _detail(payload: Any) -> str:
    """Stormkit's error bodies come in several shapes; say what any of them says."""
    if not isinstance(payload, dict):
        return ""
    error, errors = payload.get("error"), payload.get("errors")
    if isinstance(errors, dict):
        return "; ".join(f"{field}: {text}" for field, text in errors.items())
    if isinstance(errors, list):
        return "; ".join(str(text) for text in errors)
    if isinstance(error, str) and error != "unexpected-error":
        return error
    return ""
