"""Provider-neutral types. No I/O."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

Clock = Callable[[], datetime]


def utcnow() -> datetime:
    """The wall clock; the runtime injects one clock everywhere (tests inject their own)."""
    return datetime.now(UTC)


class Action(StrEnum):
    """What someone asks the bot to do; policy has one rule per action."""

    DEPLOY = "deploy"
    APPROVE = "approve"
    DISCARD = "discard"
    PUBLISH = "publish"
    ROLLBACK = "rollback"
    STOP = "stop"
    RESTART = "restart"
    LOGS = "logs"
    LOCK = "lock"
    UNLOCK = "unlock"
    STATUS = "status"
    HISTORY = "history"
    STATS = "stats"
    APPS = "apps"
    CANCEL = "cancel"  # a deploy waiting in line, before it starts


class Approval(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    DISCARDED = "discarded"
    BYPASSED = "bypassed"  # went live before anyone decided (Stormkit's autoPublish)


class Kind(StrEnum):
    """Why a deployment is followed in a thread."""

    DEPLOY = "deploy"
    ROLLBACK = "rollback"
    PUBLISH = "publish"
    RESTART = "restart"


@dataclass(frozen=True)
class AppLock:
    """An app's deploys are held until someone unlocks it; rollbacks still work.

    `reason` is mrkdwn: a person's words are escaped before they are stored."""

    app: str
    reason: str
    locked_by: str
    channel: str


class Status(StrEnum):
    QUEUED = "queued"
    BUILDING = "building"
    DEPLOYING = "deploying"
    READY = "ready"  # built, not serving traffic: waits for a publish
    LIVE = "live"
    FAILED = "failed"
    STOPPED = "stopped"
    CANCELLED = "cancelled"  # taken out of its line before it started: never triggered
    ROLLED_BACK = "rolled_back"

    @property
    def finished(self) -> bool:
        """No further change is expected without someone acting on it."""
        return self not in _RUNNING

    @property
    def emoji(self) -> str:
        return _EMOJI[self]

    @property
    def label(self) -> str:
        return self.value.replace("_", " ")


_RUNNING = frozenset({Status.QUEUED, Status.BUILDING, Status.DEPLOYING})
_EMOJI = {
    Status.QUEUED: ":hourglass_flowing_sand:",
    Status.BUILDING: ":hammer_and_wrench:",
    Status.DEPLOYING: ":rocket:",
    Status.READY: ":package:",
    Status.LIVE: ":white_check_mark:",
    Status.FAILED: ":x:",
    Status.STOPPED: ":octagonal_sign:",
    Status.CANCELLED: ":heavy_multiplication_x:",
    Status.ROLLED_BACK: ":ballot_box_with_check:",  # was live, replaced (⏪ is a rollback)
}


class Deployment(BaseModel):
    """One deployment as a provider reports it, in our words."""

    model_config = ConfigDict(frozen=True)

    id: str
    status: Status
    ref: str | None = None
    commit_sha: str | None = None
    commit_message: str | None = None
    branch: str | None = None
    author: str | None = None  # the commit's author, where the provider says (Stormkit)
    url: str | None = None
    created_at: datetime | None = None
    finished_at: datetime | None = None
    build_seconds: int | None = None
    error: str | None = None
    auto_published: bool = False
    # The project or environment the provider says it belongs to (Nometria `project_id`,
    # Stormkit `envId`); None when the answer did not say.
    owner: str | None = None

    def publishing(self) -> Deployment:
        """Read right after a publish was accepted: a build not live yet is on its way there.

        A provider may take a moment to show the publish it accepted (Stormkit starts its
        warm-up in the background); until it does, this reading is not "built, not live".
        """
        if self.status is Status.READY:
            return self.model_copy(update={"status": Status.DEPLOYING})
        return self


class LogLine(BaseModel):
    model_config = ConfigDict(frozen=True)

    message: str
    failed: bool = False
    title: str | None = None


# The requester of a deployment the bot did not start (CI, a push, the provider's dashboard):
# no Slack user asked for it, so nobody is mentioned or sent a direct message about it.
OUTSIDE = "outside"


@dataclass(frozen=True)
class Tracked:
    """A deployment the bot started (or waits to start) and follows in a thread."""

    id: int
    kind: Kind
    app: str
    provider: str
    deployment_id: str | None
    channel: str
    root_ts: str
    requester: str
    ref: str | None
    status: Status
    approval: Approval | None
    approved_by: str | None
    prompt_ts: str | None
    failing_since: datetime | None
    outage_noticed: bool
    abandoned: bool
    created_at: datetime
    env: Mapping[str, str] = field(default_factory=dict)
    waiting: bool = False  # in line behind the app's deployment in flight
    forced: str | None = None  # asked with `--force "reason"`: holds through a freeze or lock
    updated_at: datetime | None = None  # its last change: for a finished row, when it ended
    holds_app: bool = False  # the app's one deploy under way (or waiting for its approval)
    triggered_at: datetime | None = None  # when its trigger was sent (or about to be)
    default_ref: bool = False  # asked for without a ref: `ref`, once known, is the default branch

    @property
    def pending(self) -> bool:
        return self.approval is Approval.PENDING

    @property
    def outside(self) -> bool:
        """Started outside Slack, and followed here because its app announces such ones."""
        return self.requester == OUTSIDE


@dataclass(frozen=True)
class AuditEntry:
    user: str
    action: str
    app: str | None
    channel: str
    outcome: str
    deployment_id: str | None = None
    detail: str = ""
    at: datetime | None = None
