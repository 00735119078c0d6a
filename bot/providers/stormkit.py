"""Stormkit's deployments API (seeds/stormkit-deployments-api.txt)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, ValidationError, field_validator

from bot.models import Deployment, LogLine, Status
from bot.providers.base import (
    Api,
    AuthError,
    ErrorPayload,
    NotFound,
    ProviderError,
    QuotaExceeded,
    Rejected,
    Unavailable,
)

M = TypeVar("M", bound=BaseModel)


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
    commit: _Commit = _Commit()
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
        status = _status(self, env_id)
        return Deployment(
            id=self.id,
            status=status,
            ref=self.branch,
            commit_sha=self.commit.sha,
            commit_message=self.commit.message,
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


class _Poll(BaseModel):
    status: str


class Stormkit:
    """Bound to one environment: its key, and its id for keys above environment level."""

    name = "stormkit"

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
            client, provider="Stormkit", base_url=base_url, headers={"Authorization": api_key}
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
        created = await self._call("POST", "/v1/deploy", body=body, idempotent=False)
        return _parse(_Deployment, created).normalized(self._env_id)

    async def get(self, deployment_id: str, *, logs: bool = False) -> Deployment:
        return (await self._get(deployment_id, logs=logs)).normalized(self._env_id)

    async def poll(self, deployment_id: str) -> Deployment:
        payload = await self._call("GET", f"/v1/deployments/{deployment_id}/poll", params=self._q())
        if _parse(_Poll, payload).status == "running":
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

    async def _get(self, deployment_id: str, *, logs: bool) -> _Deployment:
        params = self._q() | ({"logs": "true"} if logs else {})
        payload = await self._call("GET", f"/v1/deployments/{deployment_id}", params=params)
        return _parse(_One, payload).deployment

    def _q(self) -> dict[str, str]:
        return {"envId": self._env_id} if self._env_id else {}

    async def _call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        body: Mapping[str, Any] | None = None,
        idempotent: bool = True,
    ) -> Any:
        try:
            return await self._api.call(
                method, path, params=params, body=body, idempotent=idempotent
            )
        except ErrorPayload as exc:
            raise _error(exc) from None


def _error(exc: ErrorPayload) -> ProviderError:
    detail = _message(exc.payload)
    suffix = f" ({detail})" if detail else ""
    match exc.status:
        case 402:
            return QuotaExceeded(
                "Stormkit build minutes are exhausted for this billing period: nothing was built",
                status=402,
            )
        case 401 | 403:
            return AuthError(
                "Stormkit refused the API key: it is wrong, or lacks access to this environment",
                status=exc.status,
            )
        case 404:
            return NotFound(
                f"Stormkit found no such deployment in this environment{suffix}", status=404
            )
    return Rejected(f"Stormkit refused the request (HTTP {exc.status}){suffix}", status=exc.status)


def _message(payload: Any) -> str:
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


def _parse(model: type[M], payload: Any) -> M:
    try:
        return model.model_validate(payload)
    except ValidationError:
        raise Unavailable("Stormkit sent a response in an unexpected shape") from None
