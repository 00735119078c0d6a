"""Slack retries a request it thinks we missed (X-Slack-Retry-Num): act on each one once."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse

from bot.store import Store

log = logging.getLogger(__name__)


def once(store: Store) -> Callable[..., Awaitable[BoltResponse]]:
    async def middleware(
        req: AsyncBoltRequest, resp: BoltResponse, next: Callable[[], Awaitable[BoltResponse]]
    ) -> BoltResponse:
        key = _key(req.body)
        if key is not None and not await store.claim(f"request:{key}"):
            retry = req.headers.get("x-slack-retry-num", ["?"])[0]
            log.info("ignored a repeat of request %s (retry %s)", key, retry)
            return BoltResponse(status=200, body="")
        return await next()

    return middleware


def _key(body: dict[str, Any]) -> str | None:
    """Slack's trigger_id names one invocation: a slash command or a click."""
    trigger = body.get("trigger_id")
    return trigger if isinstance(trigger, str) and trigger else None


def register(app: AsyncApp, store: Store) -> None:
    app.middleware(once(store))
