"""Nometria's deployments API (seeds/nometria-deployments-api.txt)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import httpx
from pydantic import BaseModel

from bot.models import Deployment, LogLine, Status
from bot.providers.api import Api, Refusal, follow_pages
from bot.providers.base import AuthError, Capability, NotFound, Unavailable, Unsupported

# Nometria's statuses are ours by name; it has no `ready` and no `stopped` (and `cancelled` is
# only ours: a deploy taken out of its line before it started).
_OURS_ONLY = {Status.READY, Status.STOPPED, Status.CANCELLED}
_STATUSES = {s.value: s for s in Status if s not in _OURS_ONLY}
_MAX_LIMIT = 100
# The watcher's page: more deployments than this started in one interval are not all seen.
NEWEST = 10
_KEY_REFUSED: Refusal = (
    AuthError,
    "Nometria refused the API key: it is wrong, revoked, or lacks access to this project",
)
_REFUSALS: dict[int, Refusal] = {
    401: _KEY_REFUSED,
    403: _KEY_REFUSED,
    404: (NotFound, "Nometria has no such deployment or project"),
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

    def matches(self, ref: str | None) -> bool:
        """`ref` names a branch, or a commit by a prefix of its SHA."""
        return ref is None or ref == self.branch or (self.commit_sha or "").startswith(ref)

    def normalized(self) -> Deployment:
        status = _STATUSES.get(self.status)
        if status is None:
            raise Unavailable(f"Nometria reported an unknown status {self.status!r}")
        return Deployment(
            id=self.id,
            status=status,
            ref=self.commit_sha or self.branch,
            commit_sha=self.commit_sha,
            commit_message=self.commit_message,
            branch=self.branch,
            url=self.url,
            created_at=self.created_at,
            finished_at=self.live_at,
            build_seconds=self.build_duration_seconds,
            owner=self.project_id,
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
    supports: frozenset[Capability] = frozenset(
        {"rollback", "env", "commit_refs", "rollback_redeploys"}
    )

    def __init__(
        self, client: httpx.AsyncClient, *, base_url: str, api_key: str, project_id: str
    ) -> None:
        self._api = Api(
            client,
            provider="Nometria",
            base_url=base_url,
            api_key=api_key,
            scheme="Bearer",
            refusals=_REFUSALS,
            detail=_detail,
        )
        self._project_id = project_id
        self.scope: str | None = project_id  # the key covers every project of the account

    async def trigger(
        self, *, ref: str | None, env_vars: Mapping[str, str], publish: bool = True
    ) -> Deployment:
        """Nometria has no separate publish: `publish` is ignored, every deploy goes live."""
        body: dict[str, Any] = {"project_id": self._project_id}
        if ref:
            body["commit_sha"] = ref
        if env_vars:
            body["env_vars"] = dict(env_vars)
        created = await self._api.call(
            "POST",
            "/v1/deployments",
            body=body,
            idempotent=False,
            meaning={404: f"Nometria has no project {self._project_id}"},
        )
        return self._api.parse(_One, created).data.normalized()

    async def get(self, deployment_id: str) -> Deployment:
        payload = await self._api.call(
            "GET", f"/v1/deployments/{deployment_id}", meaning=_missing(deployment_id)
        )
        return self._api.parse(_One, payload).data.normalized()

    async def poll(self, deployment_id: str) -> Deployment:
        return await self.get(deployment_id)

    async def logs(self, deployment_id: str) -> list[LogLine]:
        payload = await self._api.call(
            "GET", f"/v1/deployments/{deployment_id}/logs", meaning=_missing(deployment_id)
        )
        return [
            LogLine(message=line.message, failed=line.level in {"error", "fatal"})
            for line in self._api.parse(_Logs, payload).data.logs
        ]

    async def history(
        self, *, limit: int = 20, ref: str | None = None, status: Status | None = None
    ) -> list[Deployment]:
        """Newest first. `ref` is matched here, as Nometria cannot filter by it."""
        if status is not None and status.value not in _STATUSES:
            return []  # Nometria never reports it
        params = {"project_id": self._project_id, "limit": str(min(limit, _MAX_LIMIT))}
        if status is not None:
            params["status"] = status.value

        async def fetch(cursor: str | None) -> tuple[list[Deployment], str | None]:
            query = params | ({"cursor": cursor} if cursor else {})
            payload = await self._api.call("GET", "/v1/deployments", params=query)
            page = self._api.parse(_Page, payload)
            found = [d.normalized() for d in page.data if d.matches(ref)]
            more = page.pagination.has_more and page.pagination.next_cursor
            return found, page.pagination.next_cursor if more else None

        return await follow_pages(fetch, limit)

    async def newest(self) -> list[Deployment]:
        return await self.history(limit=NEWEST)  # one page: `limit` is what Nometria sends

    async def publish(self, deployment_id: str) -> None:
        raise Unsupported(
            "Nometria has no separate publish: a deploy goes live by itself; "
            "use rollback to return to an earlier deployment"
        )

    async def rollback(self, target_id: str) -> Deployment:
        """Nometria redeploys the target as a new deployment: that one is returned, queued."""
        refused = (
            f"deployment {target_id} is neither live nor rolled back, "
            "so production cannot go back to it"
        )
        created = await self._api.call(
            "POST",
            f"/v1/deployments/{target_id}/rollback",
            idempotent=False,
            meaning=_missing(target_id) | {400: refused, 409: refused},
        )
        return self._api.parse(_One, created).data.normalized()

    async def stop(self, deployment_id: str) -> None:
        raise Unsupported("Nometria has no stop: a deployment cannot be stopped once triggered")

    async def restart(self, deployment_id: str) -> None:
        raise Unsupported(
            "Nometria has no restart: deploy the same commit again, or roll back instead"
        )

    async def delete(self, deployment_id: str) -> None:
        raise Unsupported("Nometria has no delete: its deployments stay in the history")


def _missing(deployment_id: str) -> dict[int, str]:
    return {404: f"Nometria has no deployment {deployment_id}"}


def _detail(payload: Any) -> str:
    """Nometria's error body is {"error": {"code": ..., "message": ...}}."""
    if isinstance(payload, dict):
        error = payload.get("error")
        if isinstance(error, dict) and isinstance(error.get("message"), str):
            return str(error["message"])
        if isinstance(error, str):
            return error
    return ""
