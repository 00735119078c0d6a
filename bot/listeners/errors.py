"""Where a listener's failure becomes words for a person, and a log line with context."""

from __future__ import annotations

import logging
from typing import Any

import aiohttp
from slack_bolt.async_app import AsyncApp, AsyncRespond
from slack_sdk.errors import SlackApiError

from bot.commands.usage import UsageError
from bot.outbox.notifier import BAD_TOKEN
from bot.policy import NotAllowed, Refused
from bot.providers.base import NotOurs, ProviderError
from bot.render import guide
from bot.render.blocks import Message

log = logging.getLogger(__name__)

SLACK_DOWN = (
    "Slack did not answer when I tried to post in this channel, so there is no message or "
    "thread for this. Look at `/deploy status <app>` before trying again."
)
SLACK_DROPPED = (
    "The connection to Slack dropped while I was posting in this channel: the message may or "
    "may not be there, and I stopped. Look at `/deploy status <app>` before trying again."
)
AUTH_REFUSED = (
    "Slack refused my token ({code}), so I cannot post here; tell whoever runs deploybot. "
    "Look at `/deploy status <app>` before trying again."
)
NOT_IN_CHANNEL = (
    "I can't post in this channel. Invite me with `/invite @deploybot` and try again; "
    "nothing was deployed."
)


def explain_known(error: Exception) -> str | None:
    """Words for the errors that are the person's or the provider's, not a bug of ours."""
    if isinstance(error, UsageError):
        return guide.usage_error(str(error), error.usage)
    if isinstance(error, NotAllowed | Refused | NotOurs):
        return f":no_entry: {sentence(str(error))}"
    if isinstance(error, ProviderError):
        return f":warning: {sentence(str(error))}"
    if isinstance(error, SlackApiError | aiohttp.ClientError):  # only Slack's client uses aiohttp
        return f":warning: {_slack_failed(error)}"
    return None


def sentence(text: str) -> str:
    """A refusal as a sentence: a provider's words may start in lower case, or stop short."""
    text = text.strip()
    text = text[:1].upper() + text[1:]
    return text if text.endswith((".", "?", "!", ")", "`", ">")) else f"{text}."


def _slack_failed(error: SlackApiError | aiohttp.ClientError) -> str:
    if isinstance(error, aiohttp.ClientConnectorError):  # never reached Slack
        return SLACK_DOWN
    if isinstance(error, aiohttp.ClientError):
        return SLACK_DROPPED
    code = str(error.response.get("error", ""))
    if code in {"not_in_channel", "channel_not_found", "is_archived"}:
        return NOT_IN_CHANNEL
    if code in BAD_TOKEN:
        return AUTH_REFUSED.format(code=code)
    if error.response.status_code >= 500 or not code:
        return SLACK_DOWN
    return f"Slack refused my message ({code})."


async def answer(respond: AsyncRespond, reply: Message | None, **options: Any) -> bool:
    """Answer through the response_url; False if Slack did not take it (it expired: Slack's
    response_url works for 30 minutes), so the caller may say it another way."""
    if reply is None:
        return True
    text, found = reply.payload()
    response = await respond(text=text, blocks=found or None, response_type="ephemeral", **options)
    taken = response.status_code == 200 and "error" not in (response.body or "")
    if not taken:
        log.info("a response_url refused an answer: %s %s", response.status_code, response.body)
    return taken


def words_for(error: Exception, body: dict[str, Any]) -> str:
    """What the person is told of a failure; what is ours to fix is logged with its context."""
    user = body.get("user_id") or (body.get("user") or {}).get("id")
    channel = body.get("channel_id") or (body.get("channel") or {}).get("id")
    if explain_known(error) is None:
        log.error(
            "listener failed: %s: %s (user=%s channel=%s)",
            type(error).__name__,
            error,
            user,
            channel,
            exc_info=error,
        )
    return explain_known(error) or (
        ":warning: Something went wrong on my side; it has been logged. "
        "Look at `/deploy status <app>` before trying again."
    )


async def on_error(error: Exception, body: dict[str, Any], respond: AsyncRespond | None) -> None:
    """Tell the person in plain words; log what is ours to fix with its context.

    Listeners call this themselves after their ack (an exception that reaches Bolt's runner
    right after an ack turns into a 404 for Slack), and Bolt calls it for anything before.
    """
    text = words_for(error, body)
    if respond is not None and body.get("response_url"):
        await respond(text=text, response_type="ephemeral", replace_original=False)


def register(app: AsyncApp) -> None:
    app.error(on_error)
