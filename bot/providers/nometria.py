"""Nometria's deployments API (seeds/nometria-deployments-api.txt)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, ValidationError

from bot.models import Deployment, LogLine, Status
from bot.providers.base import (
    Api,
    AuthError,
    ErrorPayload,
    NotFound,
    ProviderError,
    Rejected,
    Unavailable,
)

M = TypeVar("M", bound=BaseModel)

_STATUSES = {s: Status(s) for s in ("queued", "building", "deploying", "live", "failed")} | {
    "rolled_back": Status.ROLLED_BACK
}


class _Deployment(BaseModel):
    id: str
    status: str
    project_id: str | None = None
    commit_sha: str | None = None
    commit_message: str | None = None
    branch: str | None = None
    url: str | None = None
    created_at: datetime | None = None
    live_at: datetime | None = None
    build_duration_seconds: int | None = None
    rolled_back_to: str | None = None

    def normalized(self) -> Deployment:
        status = _STATUSES.get(self.status)
        if status is None:
            raise Unavailable(f"nometria reported an unknown status {self.status!r}")
        return Deployment(
            id=self.id,
            status=status,
            ref=self.commit_sha or self.branch,
            commit_sha=self.commit_sha,
            commit_message=self.commit_message,
            url=self.url,
            created_at=self.created_at,
            finished_at=self.live_at,
            build_seconds=self.build_duration_seconds,
        )


class _One(BaseModel):
    data: _Deployment


class _Page(BaseModel):
    class Pagination(BaseModel):
        has_more: bool = False
        next_cursor: str | None = None

    data: list[_Deployment]
    pagination: Pagination = Pagination()


class _Logs(BaseModel):
    class Data(BaseModel):
        class Line(BaseModel):
            timestamp: str | None = None
            level: str = "info"
            message: str = ""

        logs: list[Line] = []

    data: Data


class Nometria:
    """Bound to one project and its key."""

    name = "nometria"

    def __init__(
        self, client: httpx.AsyncClient, *, base_url: str, api_key: str, project_id: str
    ) -> None:
        self._api = Api(
            client,
            provider="Nometria",
            base_url=base_url,
            headers={"Authorization": f"Bearer {api_key}"},
        )
        self._project_id = project_id

    async def trigger(
        self, *, ref: str | None, env_vars: Mapping[str, str], publish: bool = True
    ) -> Deployment:
        body: dict[str, Any] = {"project_id": self._project_id}
        if ref:
            body["commit_sha"] = ref
        if env_vars:
            body["env_vars"] = dict(env_vars)
        created = await self._call("POST", "/v1/deployments", body=body, idempotent=False)
        return _parse(_One, created).data.normalized()

    async def get(self, deployment_id: str) -> Deployment:
        payload = await self._call("GET", f"/v1/deployments/{deployment_id}")
        return _parse(_One, payload).data.normalized()

    async def poll(self, deployment_id: str) -> Deployment:
        return await self.get(deployment_id)

    async def logs(self, deployment_id: str) -> list[LogLine]:
        payload = await self._call("GET", f"/v1/deployments/{deployment_id}/logs")
        return [
            LogLine(message=line.message, failed=line.level in {"error", "fatal"})
            for line in _parse(_Logs, payload).data.logs
        ]

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
    if exc.status in {401, 403}:
        return AuthError(
            "Nometria refused the API key: it is wrong, revoked, or lacks access to this project",
            status=exc.status,
        )
    if exc.status == 404:
        return NotFound(f"Nometria has no such deployment or project{detail}", status=404)
    return Rejected(f"Nometria refused the request (HTTP {exc.status}){detail}", status=exc.status)


def _message(payload: Any) -> str:
    if isinstance(payload, dict):
        error = payload.get("error")
        if isinstance(error, dict) and isinstance(error.get("message"), str):
            return f": {error['message']}"
        if isinstance(error, str):
            return f": {error}"
    return ""


def _parse(model: type[M], payload: Any) -> M:
    try:
        return model.model_validate(payload)
    except ValidationError:
        raise Unavailable("Nometria sent a response in an unexpected shape") from None
