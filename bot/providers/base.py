"""The provider plug-in point: a Protocol, its errors, and the HTTP plumbing both APIs share."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Literal, Protocol

import httpx
import stamina

from bot.models import Deployment, LogLine


class ProviderError(Exception):
    """A provider said no, or could not be reached. `str()` is a sentence for a person."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class AuthError(ProviderError):
    pass


class NotFound(ProviderError):
    pass


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


Operation = Literal["publish", "rollback", "stop", "restart", "delete"]


class Provider(Protocol):
    """One app's deployments on one platform. Adapters are bound to an app's key and target."""

    name: str
    supports: frozenset[Operation]

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

    async def publish(self, deployment_id: str) -> None:
        """Make a built deployment live."""
        ...

    async def rollback(self, target_id: str) -> Deployment:
        """Send production back to `target_id`; return the deployment to follow to live."""
        ...

    async def stop(self, deployment_id: str) -> None: ...

    async def restart(self, deployment_id: str) -> None: ...

    async def delete(self, deployment_id: str) -> None: ...


def _backoff(exc: Exception) -> bool | float:
    if isinstance(exc, Unavailable):
        return exc.retry_after if exc.retry_after is not None else True
    return False


class Api:
    """A JSON API over the shared client: auth header, error mapping, retries."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        provider: str,
        base_url: str,
        headers: Mapping[str, str],
        attempts: int = 4,
        timeout: float = 30.0,
    ) -> None:
        self._client = client
        self._provider = provider
        self._base_url = base_url.rstrip("/")
        self._headers = dict(headers)
        self._attempts = attempts
        self._timeout = timeout

    async def call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        body: Mapping[str, Any] | None = None,
        idempotent: bool = True,
    ) -> Any:
        """Send one request, retrying what is safe to retry.

        A POST that may have reached the provider is not sent again (a second trigger would be
        a second deployment): only refused connections and 429s are retried for it.
        """
        async for attempt in stamina.retry_context(
            on=_backoff, attempts=self._attempts, timeout=self._timeout
        ):
            with attempt:
                return await self._once(method, path, params, body, idempotent=idempotent)
        raise AssertionError("unreachable")  # pragma: no cover

    async def _once(
        self,
        method: str,
        path: str,
        params: Mapping[str, str] | None,
        body: Mapping[str, Any] | None,
        *,
        idempotent: bool,
    ) -> Any:
        try:
            response = await self._client.request(
                method,
                self._base_url + path,
                params=params,
                json=body,
                headers=self._headers,
            )
        except httpx.ConnectError as exc:
            raise Unavailable(
                f"{self._provider} could not be reached ({type(exc).__name__})"
            ) from None
        except httpx.TransportError as exc:
            error = Unavailable if idempotent else ProviderError
            raise error(f"{self._provider} did not answer in time ({type(exc).__name__})") from None
        return self._decode(response, idempotent=idempotent)

    def _decode(self, response: httpx.Response, *, idempotent: bool) -> Any:
        status = response.status_code
        if status == 429:
            raise Unavailable(
                f"{self._provider} is rate limiting us",
                status=status,
                retry_after=_seconds(response.headers.get("Retry-After")),
            )
        if status >= 500:
            error = Unavailable if idempotent else ProviderError
            raise error(f"{self._provider} had an internal error (HTTP {status})", status=status)
        try:
            payload = response.json() if response.content else None
        except json.JSONDecodeError:
            if status < 400:
                raise Unavailable(
                    f"{self._provider} sent a response that is not JSON", status=status
                ) from None
            payload = None
        if status >= 400:
            raise ErrorPayload(status=status, payload=payload)
        return payload


class ErrorPayload(Exception):
    """A 4xx with its decoded body, for the adapter to turn into words."""

    def __init__(self, *, status: int, payload: Any) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status
        self.payload = payload


def _seconds(value: str | None) -> float | None:
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None
