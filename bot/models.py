"""Provider-neutral types. No I/O."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict


class Status(StrEnum):
    QUEUED = "queued"
    BUILDING = "building"
    DEPLOYING = "deploying"
    READY = "ready"  # built, not serving traffic: waits for a publish
    LIVE = "live"
    FAILED = "failed"
    STOPPED = "stopped"
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
    Status.ROLLED_BACK: ":rewind:",
}


class Deployment(BaseModel):
    """One deployment as a provider reports it, in our words."""

    model_config = ConfigDict(frozen=True)

    id: str
    status: Status
    ref: str | None = None
    commit_sha: str | None = None
    commit_message: str | None = None
    url: str | None = None
    created_at: datetime | None = None
    finished_at: datetime | None = None
    build_seconds: int | None = None
    error: str | None = None
    auto_published: bool = False

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
