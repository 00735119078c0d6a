"""The HTTP plumbing both provider APIs share: one JSON API over the shared client, its refusals
as typed errors (bot/providers/base.py), and paging."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar

import httpx
import stamina
from pydantic import BaseModel, ValidationError

from bot.metrics import PROVIDER_ERRORS
from bot.models import Deployment
from bot.mrkdwn import escape
from bot.providers.base import ProviderError, Rejected, Unavailable
from bot.providers.http import never_sent
from bot.redact import Redactor

Refusal = tuple[type[ProviderError], str]
"""The error type and sentence for a 4xx status, before the provider's own words are added."""

M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")


class Api:
    """A JSON API over the shared client: auth header, retries, and 4xx statuses as typed errors.

    `refusals` says what each 4xx means for any request of this API; a call's `meaning` says it
    better for that request. Any other 4xx is `Rejected`. `detail` pulls the provider's own
    words out of an error body; they are added in brackets. The key never shows in an error.
    """

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        provider: str,
        base_url: str,
        api_key: str,
        scheme: str | None,
        refusals: Mapping[int, Refusal],
        detail: Callable[[Any], str],
        attempts: int = 4,
        timeout: float = 30.0,
    ) -> None:
        self._client = client
        self._provider = provider
        self._base_url = base_url.rstrip("/")
        self._headers = {"Authorization": f"{scheme} {api_key}" if scheme else api_key}
        self._refusals = refusals
        self._detail = detail
        self._redact = Redactor([api_key])
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
        meaning: Mapping[int, str] | None = None,
    ) -> Any:
        """Send one request, retrying what is safe to retry.

        A POST that may have reached the provider is not sent again (a second trigger would be
        a second deployment): only refused connections and 429s are retried for it.
        """
        payload, _ = await self.call_dated(
            method, path, params=params, body=body, idempotent=idempotent, meaning=meaning
        )
        return payload

    async def call_dated(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        body: Mapping[str, Any] | None = None,
        idempotent: bool = True,
        meaning: Mapping[int, str] | None = None,
    ) -> tuple[Any, datetime | None]:
        """`call`, with the provider's own time from the answer's Date header (None if absent)."""
        async for attempt in stamina.retry_context(
            on=self._backoff, attempts=self._attempts, timeout=self._timeout
        ):
            with attempt:
                try:
                    response = await self._send(method, path, params, body, idempotent=idempotent)
                    payload = self._decode(response, idempotent=idempotent, meaning=meaning or {})
                    return payload, _date(response.headers.get("Date"))
                except ProviderError as exc:
                    status = str(exc.status) if exc.status else "transport"
                    PROVIDER_ERRORS.labels(self._provider.lower(), status).inc()
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def parse(self, model: type[M], payload: Any) -> M:
        try:
            return model.model_validate(payload)
        except ValidationError:
            raise Unavailable(f"{self._provider} sent a response in an unexpected shape") from None

    def _backoff(self, exc: Exception) -> bool | float:
        if not isinstance(exc, Unavailable):
            return False
        if exc.retry_after is None:
            return True
        # Waiting longer than we would wait in all is not worth it: say so at once instead.
        return exc.retry_after if exc.retry_after <= self._timeout else False

    async def _send(
        self,
        method: str,
        path: str,
        params: Mapping[str, str] | None,
        body: Mapping[str, Any] | None,
        *,
        idempotent: bool,
    ) -> httpx.Response:
        try:
            return await self._client.request(
                method, self._base_url + path, params=params, json=body, headers=self._headers
            )
        except httpx.TransportError as exc:
            if never_sent(exc):
                reason = type(exc.__cause__ or exc).__name__
                raise Unavailable(f"{self._provider} could not be reached ({reason})") from None
            error = Unavailable if idempotent else ProviderError
            raise error(f"{self._provider} gave no answer ({type(exc).__name__})") from None

    def _decode(
        self, response: httpx.Response, *, idempotent: bool, meaning: Mapping[int, str]
    ) -> Any:
        status = response.status_code
        if status == 429:
            wait = _seconds(response.headers.get("Retry-After"))
            asks = f" and asks us to wait {wait:g} s" if wait is not None else ""
            raise Unavailable(
                f"{self._provider} is rate limiting us{asks}", status=status, retry_after=wait
            )
        # A request that may have done its work is not sent again, whatever came back.
        error = Unavailable if idempotent else ProviderError
        if status >= 500:
            raise error(f"{self._provider} had an internal error (HTTP {status})", status=status)
        try:
            payload = response.json() if response.content else None
        except json.JSONDecodeError:
            if status < 400:
                raise error(
                    f"{self._provider} sent a response that is not JSON", status=status
                ) from None
            payload = None
        if status >= 400:
            raise self._refused(status, payload, meaning.get(status))
        return payload

    def _refused(self, status: int, payload: Any, meaning: str | None) -> ProviderError:
        kind, sentence = self._refusals.get(
            status, (Rejected, f"{self._provider} refused the request (HTTP {status})")
        )
        sentence = meaning or sentence
        detail = self._detail(payload)
        said = f"{sentence} ({escape(detail)})" if detail else sentence
        return kind(self._redact(said), status=status)


async def follow_pages(
    fetch: Callable[[T | None], Awaitable[tuple[list[Deployment], T | None]]], limit: int
) -> list[Deployment]:
    """The first `limit` deployments over pages; `fetch(token)` gives a page and the next token.

    The first page is fetched with None; a page without a next token is the last.
    """
    found: list[Deployment] = []
    token: T | None = None
    while len(found) < limit:
        page, token = await fetch(token)
        found += page
        if token is None:
            break
    return found[:limit]


def _date(value: str | None) -> datetime | None:
    try:
        return parsedate_to_datetime(value) if value else None
    except (TypeError, ValueError):
        return None


def _seconds(value: str | None) -> float | None:
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None
