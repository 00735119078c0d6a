"""The provider plug-in point: a Protocol, its capabilities and its errors (bot/providers/api.py
holds the HTTP plumbing both APIs share)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal, Protocol

from bot.models import Deployment, LogLine, Status


class ProviderError(Exception):
    """A provider said no, or could not be reached. `str()` is a sentence for a person."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class AuthError(ProviderError):
    pass


class NotFound(ProviderError):
    pass


class NotOurs(NotFound):
    """The ID names no deployment of this app: another project's or environment's, or none.

    Raised before anything is sent about it; a refusal, not a failure."""


class QuotaExceeded(ProviderError):
    pass


class Rejected(ProviderError):
    """The request was understood and refused (4xx other than auth, quota, not found)."""


class Unsupported(ProviderError):
    """The provider has no such operation."""


class Unavailable(ProviderError):
    """Timeouts, connection errors, 5xx, 429, bodies that are not JSON: worth another try."""

    def __init__(
        self, message: str, *, status: int | None = None, retry_after: float | None = None
    ) -> None:
        super().__init__(message, status=status)
        self.retry_after = retry_after


def maybe_sent(exc: ProviderError) -> bool:
    """A trigger's error that does not say it was refused or never sent (no answer, a 5xx, an
    answer that is not JSON): the provider may have started the deployment. The API raises the
    plain ProviderError only then; refusals and requests that never left are subclasses."""
    return type(exc) is ProviderError


Operation = Literal["publish", "rollback", "stop", "restart", "delete"]
# What an adapter can do beyond trigger and read. "env": a trigger takes KEY=VALUE overrides;
# "commit_refs": a ref is a commit SHA of one connected branch, not a branch name;
# "rollback_redeploys": a rollback is a new deployment (Nometria), not the target published again;
# "warm_up": "deploying" is a publish that can still fail (Stormkit warms a build up first).
Capability = Operation | Literal["env", "commit_refs", "rollback_redeploys", "warm_up"]


def publish_outcome(
    supports: frozenset[Capability], provider: str, before: Status, deployment: Deployment
) -> Deployment:
    """What a new reading means after the one before it.

    Where a publish warms the build up first ("warm_up"), "deploying" is that publish under way:
    a deployment that falls back from it to built-but-not-live was not published, and that is a
    failure.
    """
    if "warm_up" in supports and before is Status.DEPLOYING and deployment.status is Status.READY:
        name = provider.capitalize()
        error = (
            f"{name} did not publish it: its warm-up ended and it is neither published nor "
            "warming up, so the app still serves the deployment that was live before. "
            f"{name} records why in the environment's publish status, on its dashboard"
        )
        return deployment.model_copy(update={"status": Status.FAILED, "error": error})
    return deployment


class Provider(Protocol):
    """One app's deployments on one platform. Adapters are bound to an app's key and target."""

    name: str
    # What this app's deployments belong to, as the provider names it (`Deployment.owner`):
    # the project, the environment, None when the key alone decides (a Stormkit env key).
    scope: str | None

    @property
    def supports(self) -> frozenset[Capability]: ...

    async def trigger(
        self, *, ref: str | None, env_vars: Mapping[str, str], publish: bool
    ) -> Deployment: ...

    async def get(self, deployment_id: str) -> Deployment: ...

    async def poll(self, deployment_id: str) -> Deployment:
        """The cheapest read that tells the status; details are filled once it finishes."""
        ...

    async def logs(self, deployment_id: str) -> list[LogLine]: ...

    async def history(self, *, limit: int = 20, ref: str | None = None) -> list[Deployment]:
        """The newest `limit` deployments, newest first, following the API's paging."""
        ...

    async def newest(self) -> list[Deployment]:
        """The first page of the list, newest first, as small as the API allows: one request
        (what the watcher reads each interval to find deployments started outside Slack)."""
        ...

    async def publish(self, deployment_id: str) -> None:
        """Make a built deployment live."""
        ...

    async def rollback(self, target_id: str) -> Deployment:
        """Send production back to `target_id`; return the deployment to follow to live."""
        ...

    async def stop(self, deployment_id: str) -> None: ...

    async def restart(self, deployment_id: str) -> None: ...

    async def delete(self, deployment_id: str) -> None: ...
