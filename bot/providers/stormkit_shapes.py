"""What Stormkit's deployment answers look like, and what their status means in our words.

Two generations of the server answer the same endpoints. The seed doc (and older servers) say
`published` is a list of `{envId, percentage}`; today's open-source server says `published`
is a boolean, adds `isWarmingUp`, and publishes only after every hosting node has warmed the
deployment up (up to 180 s, `publish_gate.go`). Both are read here.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pydantic import BaseModel, field_validator

from bot.commands.usage import ascii_int
from bot.models import Deployment, Status
from bot.providers.base import Unavailable

# A build that will publish itself shows `success`, unpublished and not warming up, for the
# moment between its exit code being written and its publish starting
# (deployhandlers/handler_deploy_callback.go). Past this, "unpublished" is an answer.
PUBLISH_GAP = timedelta(seconds=60)

STATUS_CHECKS_FAILED = "a status check failed, so Stormkit did not publish it"


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


class Log(BaseModel):
    title: str = ""
    message: str = ""
    status: bool = True


class StormkitDeployment(BaseModel):
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
    published: bool | list[_Published] | None = None  # today a boolean; the seed's a list
    isPublished: bool | None = None  # noqa: N815 - the name in the server's openapi.json
    isWarmingUp: bool = False  # noqa: N815
    statusChecksPassed: bool | None = None  # noqa: N815 - null while they run, or with none
    logs: list[Log] | None = None
    statusChecks: list[Log] | None = None  # noqa: N815

    @field_validator("id", "envId", mode="before")
    @classmethod
    def _as_text(cls, value: object) -> object:
        return str(value) if isinstance(value, int) else value

    @field_validator("createdAt", "stoppedAt", mode="before")
    @classmethod
    def _unix(cls, value: object) -> object:
        """Unix seconds as a number (the 201 of POST /v1/deploy) or as a string (GETs)."""
        if isinstance(value, str) and (seconds := ascii_int(value)) is not None:
            value = seconds
        if value in {"", 0}:
            return None  # the server's zero time: not stopped yet
        if isinstance(value, int | float) and not isinstance(value, bool):
            return datetime.fromtimestamp(value, tz=UTC)
        return value

    def is_published(self, target: str | None) -> bool:
        if isinstance(self.published, bool):
            return self.published
        if self.published:
            return any(p.envId == target and p.percentage > 0 for p in self.published)
        return bool(self.isPublished)

    def normalized(self, env_id: str | None, *, now: datetime | None = None) -> Deployment:
        """`now` is Stormkit's own time (its Date header), ours when it sent none."""
        status = _status(self, env_id, now or datetime.now(UTC))
        commit = self.commit or _Commit()
        error = self.error or None
        if status is Status.FAILED and self.statusChecksPassed is False and not error:
            error = STATUS_CHECKS_FAILED
        return Deployment(
            id=self.id,
            status=status,
            ref=self.branch,
            commit_sha=commit.sha,
            commit_message=commit.message,
            branch=self.branch,
            author=commit.author,
            url=self.previewUrl,
            created_at=self.createdAt,
            finished_at=self.stoppedAt,
            build_seconds=round(self.duration) if self.duration else None,
            error=error,
            auto_published=status is Status.LIVE and self.isAutoPublish,
            owner=self.envId,
        )


def _status(deployment: StormkitDeployment, env_id: str | None, now: datetime) -> Status:
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
            return _success(deployment, env_id, now)
    raise Unavailable(f"Stormkit reported an unknown status {deployment.status!r}")


def _success(deployment: StormkitDeployment, env_id: str | None, now: datetime) -> Status:
    """A finished build serves traffic once published where we look, and warmed up."""
    if deployment.isWarmingUp:
        return Status.DEPLOYING  # traffic moves only when the warm-up ends (publish_gate.go)
    if deployment.is_published(env_id or deployment.envId):
        return Status.LIVE
    stopped = deployment.stoppedAt
    will_publish = deployment.shouldPublish or deployment.isAutoPublish
    if will_publish and stopped is not None and now - stopped < PUBLISH_GAP:
        return Status.DEPLOYING
    return Status.READY
