"""One place where a listener's failure becomes a log line with context and words for a person."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncApp, AsyncRespond
from slack_sdk.errors import SlackApiError

from bot.commands import UsageError
from bot.providers.base import ProviderError

log = logging.getLogger(__name__)


def explain(error: Exception) -> str:
    if isinstance(error, SlackApiError):
        code = error.response.get("error", "")
        if code in {"not_in_channel", "channel_not_found"}:
            return (
                "I can't post in this channel. Invite me with `/invite @deploybot` and try again."
            )
        return f"Slack refused my message ({code}). Nothing was deployed."
    if isinstance(error, ProviderError | UsageError):
        return str(error)
    return "Something went wrong on my side; it has been logged. Nothing more was done."


async def on_error(error: Exception, body: dict[str, Any], respond: AsyncRespond | None) -> None:
    user = body.get("user_id") or body.get("user", {}).get("id")
    channel = body.get("channel_id") or body.get("channel", {}).get("id")
    log.error(
        "listener failed: %s: %s (user=%s channel=%s)", type(error).__name__, error, user, channel
    )
    if respond is not None and body.get("response_url"):
        await respond(text=f":warning: {explain(error)}", response_type="ephemeral")


def register(app: AsyncApp) -> None:
    app.error(on_error)
