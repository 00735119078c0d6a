"""Stormkit's deployments API (seeds/stormkit-deployments-api.txt)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import httpx
from pydantic import BaseModel, field_validator

from bot.models import Deployment, LogLine, Status
from bot.providers.base import (
    Api,
    AuthError,
    NotFound,
    Operation,
    QuotaExceeded,
    Refusal,
    Rejected,
    Unavailable,
    follow_pages,
)

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


class _Commit(BaseModel):
    author: str | None = None
    message: str | None = None
    sha: str | None = None


class _Published(BaseModel):
    envId: str  # noqa: N815 - the API's own name
    percentage: float = 100

    @field_validator("envId", mode="before")
    @classmethod
    def _as_text(cls, value: object) -> str:
        return str(value)


class _Log(BaseModel):
    title: str = ""
    message: str = ""
    status: bool = True


class _Deployment(BaseModel):
    id: str
    envId: str | None = None  # noqa: N815
    branch: str | None = None
    status: str | None = None  # absent in the 201 of POST /v1/deploy
    error: str | None = None
    stoppedManually: bool = False  # noqa: N815
    isAutoPublish: bool = False  # noqa: N815
    shouldPublish: bool = False  # noqa: N815
    previewUrl: str | None = None  # noqa: N815
    duration: float | None = None
    createdAt: datetime | None = None  # noqa: N815
    stoppedAt: datetime | None = None  # noqa: N815
    commit: _Commit | None = None  # documented as an object of nulls; null is read so too
    published: list[_Published] | None = None
    logs: list[_Log] | None = None

    @field_validator("id", "envId", mode="before")
    @classmethod
    def _as_text(cls, value: object) -> object:
        return str(value) if isinstance(value, int) else value

    @field_validator("createdAt", "stoppedAt", mode="before")
    @classmethod
    def _unix(cls, value: object) -> object:
        if isinstance(value, str) and value.isdigit():
            return datetime.fromtimestamp(int(value), tz=UTC)
        return value

    def normalized(self, env_id: str | None) -> Deployment:
        status, commit = _status(self, env_id), self.commit or _Commit()
        return Deployment(
            id=self.id,
            status=status,
            ref=self.branch,
            commit_sha=commit.sha,
            commit_message=commit.message,
            url=self.previewUrl,
            created_at=self.createdAt,
            finished_at=self.stoppedAt,
            build_seconds=round(self.duration) if self.duration else None,
            error=self.error or None,
            auto_published=status is Status.LIVE and self.isAutoPublish,
        )


def _status(deployment: _Deployment, env_id: str | None) -> Status:
    match deployment.status:
        case None:
            return Status.QUEUED
        case "running":
            return Status.BUILDING
        case "stopped":
            return Status.STOPPED
        case "failed":
            return Status.STOPPED if deployment.stoppedManually else Status.FAILED
        case "success":
            # A finished build serves traffic only where `published` names the environment.
            target = env_id or deployment.envId
            live = any(p.envId == target and p.percentage > 0 for p in deployment.published or [])
            return Status.LIVE if live else Status.READY
    raise Unavailable(f"Stormkit reported an unknown status {deployment.status!r}")


class _One(BaseModel):
    deployment: _Deployment


class _Page(BaseModel):
    deployments: list[_Deployment]
    hasNextPage: bool = False  # noqa: N815


class _Poll(BaseModel):
    status: str


class Stormkit:
    """Bound to one environment: its key, and its id for keys above environment level."""

    name = "stormkit"
    supports: frozenset[Operation] = frozenset({"publish", "rollback", "stop", "restart", "delete"})

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
            refusals=_REFUSALS,
            detail=_detail,
        )
        self._env_id = env_id
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
            meaning={404: "Stormkit found no such environment, or cannot reach its repository"},
        )
        return self._api.parse(_Deployment, created).normalized(self._env_id)

    async def get(self, deployment_id: str, *, logs: bool = False) -> Deployment:
        return (await self._get(deployment_id, logs=logs)).normalized(self._env_id)

    async def poll(self, deployment_id: str) -> Deployment:
        payload = await self._api.call(
            "GET",
            f"/v1/deployments/{deployment_id}/poll",
            params=self._q(),
            meaning=_missing(deployment_id),
        )
        if self._api.parse(_Poll, payload).status == "running":
            return Deployment(id=deployment_id, status=Status.BUILDING)
        return await self.get(deployment_id)

    async def logs(self, deployment_id: str) -> list[LogLine]:
        deployment = await self._get(deployment_id, logs=True)
        lines = [
            LogLine(title=log.title, message=log.message, failed=not log.status)
            for log in deployment.logs or []
        ]
        if deployment.error:
            lines.append(LogLine(title="error", message=deployment.error, failed=True))
        return lines

    async def history(self, *, limit: int = 20, ref: str | None = None) -> list[Deployment]:
        """Newest first; `ref` is a branch, filtered by Stormkit."""
        params = self._q() | ({"branch": ref} if ref else {})

        async def fetch(start: int | None) -> tuple[list[Deployment], int | None]:
            query = params | ({"from": str(start)} if start else {})
            payload = await self._api.call("GET", "/v1/deployments", params=query)
            page = self._api.parse(_Page, payload)
            found = [d.normalized(self._env_id) for d in page.deployments]
            return found, (start or 0) + PAGE_SIZE if page.hasNextPage else None

        return await follow_pages(fetch, limit)

    async def publish(self, deployment_id: str) -> None:
        refused = f"deployment {deployment_id} has no successful build, so it cannot be published"
        await self._act("publish", deployment_id, refused, idempotent=True)

    async def rollback(self, target_id: str) -> Deployment:
        """Publishing an earlier deployment is Stormkit's rollback; it is live at once."""
        await self.publish(target_id)
        return await self.get(target_id)

    async def stop(self, deployment_id: str) -> None:
        """Stormkit answers OK for a deployment that has already finished, and does nothing."""
        await self._act("stop", deployment_id, None, idempotent=True)

    async def restart(self, deployment_id: str) -> None:
        refused = (
            f"deployment {deployment_id} has not failed: only a failed deployment can be restarted"
        )
        await self._act("restart", deployment_id, refused, idempotent=False)

    async def delete(self, deployment_id: str) -> None:
        # Sent once: a repeat after a lost answer would say 404 for what the first one deleted.
        await self._api.call(
            "DELETE",
            f"/v1/deployments/{deployment_id}",
            params=self._q(),
            idempotent=False,
            meaning=_missing(deployment_id),
        )

    async def _act(
        self, action: str, deployment_id: str, refused: str | None, *, idempotent: bool
    ) -> None:
        """POST one of the deployment's actions; Stormkit answers {"ok": true}."""
        await self._api.call(
            "POST",
            f"/v1/deployments/{deployment_id}/{action}",
            # The docs want envId in the body (overview) or the query (GETs), and say nothing
            # for these endpoints: both are sent.
            params=self._q(),
            body=self._q() or None,
            idempotent=idempotent,
            meaning=_missing(deployment_id) | ({400: refused} if refused else {}),
        )

    async def _get(self, deployment_id: str, *, logs: bool) -> _Deployment:
        params = self._q() | ({"logs": "true"} if logs else {})
        payload = await self._api.call(
            "GET",
            f"/v1/deployments/{deployment_id}",
            params=params,
            meaning=_missing(deployment_id),
        )
        return self._api.parse(_One, payload).deployment

    def _q(self) -> dict[str, str]:
        return {"envId": self._env_id} if self._env_id else {}


def _missing(deployment_id: str) -> dict[int, str]:
    return {404: f"Stormkit has no deployment {deployment_id} in this environment"}


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
