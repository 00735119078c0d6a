"""One sandbox deployment: what was asked and done to it, and the status that follows."""

from __future__ import annotations

from dataclasses import dataclass

from bot.models import Status


@dataclass
class Run:
    """What was asked and done to one deployment; its status is derived, never stored."""

    id: str
    seq: int
    ref: str
    sha: str
    message: str
    publish: bool
    created: float
    build_steps: int
    fails: bool
    started: float
    env: dict[str, str]
    step: float
    attempt: int = 1
    stopped: float | None = None
    published: float | None = None  # the latest publish of it, or rollback to it

    def at(self, steps: float) -> float:
        return self.started + steps * self.step

    @property
    def ends(self) -> float:
        """When the build fails, or the deployment ends ready or live."""
        return self.at(1 + self.build_steps if self.fails else 2 + self.build_steps)

    @property
    def live_at(self) -> float | None:
        if self.published is not None:
            return self.published
        return self.ends if self.publish and not self.fails and self.stopped is None else None

    def phase(self, now: float) -> Status | None:
        """Where the build stands; None once it has succeeded and only publishing matters."""
        if self.stopped is not None:
            return Status.STOPPED
        if now < self.at(1):
            return Status.QUEUED
        if now < self.at(1 + self.build_steps):
            return Status.BUILDING
        if self.fails:
            return Status.FAILED
        if now >= self.ends:
            return None
        # Its last step: going live when it publishes itself; otherwise the build finishing,
        # as on Stormkit, where a build nobody publishes never says "deploying".
        return Status.DEPLOYING if self.publish else Status.BUILDING

    def matches(self, ref: str | None) -> bool:
        """`ref` names a branch, or a commit by a prefix of its SHA."""
        return not ref or ref == self.ref or self.sha.startswith(ref.lower())
