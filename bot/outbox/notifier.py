"""Slack's chat calls for the outbox: redacts every string, counts errors (the outbox paces)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncConnectionErrorRetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from bot.metrics import SLACK_ERRORS
from bot.redact import Redactor
from bot.render.slack_limits import SECTION_TEXT, fit

log = logging.getLogger(__name__)

# What Slack answers when it refuses a message's form: the same words as text alone may go,
# in the same call (so its place in the thread and its once-only metadata hold). The outbox's
# REFUSED_CODES (bot/outbox/retry.py) then sees only a plain text that was refused too.
REFUSED_FORM = frozenset(
    {"invalid_blocks", "invalid_blocks_format", "msg_too_long", "msg_blocks_too_long"}
)
PLAIN_NOTE = "\n_(shortened: Slack refused the full message)_"

# What Slack answers when the bot's token itself is wrong: no retry will fix these.
BAD_TOKEN = frozenset(
    {"invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired"}
)


class NoBlindRepost(AsyncConnectionErrorRetryHandler):
    """slack_sdk's retry of connection errors, except a chat.postMessage that may have landed.

    A post whose connection dropped after Slack took it would be posted twice by a blind
    re-send, and the outbox's "already posted?" lookup (conversations.replies by metadata)
    cannot run inside slack_sdk's retry. So such a post is not re-sent here: the error reaches
    the outbox, whose next attempt looks the notice up first and posts it only if it is not
    there. A post that never left (the connection could not be opened) is re-sent as before,
    and so is every other call. A root message (sent at once, never re-sent by the outbox) then
    fails loudly instead of being doubled: the command says so, before anything is triggered.
    """

    async def _can_retry_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        never_sent = isinstance(error, aiohttp.ClientConnectorError)
        if request.url.endswith("/chat.postMessage") and not never_sent:
            return False
        return await super()._can_retry_async(
            state=state, request=request, response=response, error=error
        )


def without_waits(client: AsyncWebClient) -> AsyncWebClient:
    """The same connection and token, retrying only a connection that never opened: for the
    outbox's messages, which it retries itself after a back-off (and a look-up where the call
    may have landed), so nothing sleeps out a 429's Retry-After inside a call while a channel's
    turn is held, and a post answered 5xx (Slack may have taken it) is not re-sent blind."""
    return AsyncWebClient(
        token=client.token,
        session=client.session,
        base_url=client.base_url,
        timeout=client.timeout,
        retry_handlers=[NoBlindRepost()],
    )


class Notifier:
    def __init__(
        self, client: AsyncWebClient, redact: Redactor, *, queued: AsyncWebClient | None = None
    ) -> None:
        self._client = client
        self._redact = redact
        self._queued = queued or without_waits(client)  # the outbox's replies, edits, look-ups

    async def post(
        self,
        channel: str,
        text: str,
        blocks: list[dict[str, Any]],
        *,
        thread_ts: str | None = None,
        broadcast: bool = False,
        metadata: dict[str, Any] | None = None,
        queued: bool = False,
    ) -> str:
        """chat.postMessage; `queued`: an outbox message, which the outbox retries itself."""
        client = self._queued if queued else self._client

        def send(text: str, blocks: list[dict[str, Any]]) -> Awaitable[AsyncSlackResponse]:
            return self._counted(
                "chat.postMessage",
                client.chat_postMessage(
                    channel=channel,
                    thread_ts=thread_ts,
                    reply_broadcast=broadcast or None,
                    text=self._redact(text),
                    blocks=self._scrub(blocks),
                    metadata=metadata,
                    unfurl_links=False,
                ),
            )

        response = await self._or_plain(send, text, blocks, channel)
        return str(response["ts"])

    async def update(
        self,
        channel: str,
        ts: str,
        text: str,
        blocks: list[dict[str, Any]],
        *,
        queued: bool = False,
    ) -> None:
        client = self._queued if queued else self._client

        def send(text: str, blocks: list[dict[str, Any]]) -> Awaitable[AsyncSlackResponse]:
            return self._counted(
                "chat.update",
                client.chat_update(
                    channel=channel, ts=ts, text=self._redact(text), blocks=self._scrub(blocks)
                ),
            )

        await self._or_plain(send, text, blocks, channel)

    async def _or_plain(
        self,
        send: Callable[[str, list[dict[str, Any]]], Awaitable[AsyncSlackResponse]],
        text: str,
        blocks: list[dict[str, Any]],
        channel: str,
    ) -> AsyncSlackResponse:
        """Send; if Slack refuses the message's form (its blocks, its length), send its text
        alone, shortened, once: the announcement is made in plain words, the log says why."""
        try:
            return await send(text, blocks)
        except SlackApiError as exc:
            code = str(exc.response.get("error") or "")
            if code not in REFUSED_FORM:
                raise
            details = exc.response.get("errors") or exc.response.get("response_metadata") or ""
            log.warning(
                "Slack refused a message in %s (%s %s): sent as text", channel, code, details
            )
        return await send(fit(text, SECTION_TEXT - len(PLAIN_NOTE)) + PLAIN_NOTE, [])

    async def whisper(
        self, channel: str, user: str, text: str, blocks: list[dict[str, Any]]
    ) -> None:
        """chat.postEphemeral: a message only `user` sees in `channel` (a confirmation)."""
        await self._counted(
            "chat.postEphemeral",
            self._client.chat_postEphemeral(
                channel=channel, user=user, text=self._redact(text), blocks=self._scrub(blocks)
            ),
        )

    async def publish_home(self, user: str, view: dict[str, Any]) -> None:
        """views.publish: the person's Home tab, replaced whole (so never doubled)."""
        await self._counted(
            "views.publish",
            self._client.views_publish(user_id=user, view=self._scrub(view)),
        )

    async def permalink(self, channel: str, ts: str) -> str | None:
        """chat.getPermalink; None when Slack cannot say (the message still names its channel)."""
        try:
            response = await self._counted(
                "chat.getPermalink", self._client.chat_getPermalink(channel=channel, message_ts=ts)
            )
        except (SlackApiError, aiohttp.ClientError, TimeoutError):
            return None
        link = response.get("permalink")
        return str(link) if link else None

    async def find_on_page(
        self,
        channel: str,
        thread_ts: str,
        event_type: str,
        payload: dict[str, Any],
        *,
        cursor: str | None = None,
    ) -> tuple[str | None, str | None]:
        """One page of the thread from `cursor`: the ts of a reply on it carrying this
        metadata (or None), and the next page's cursor (None after the last page).

        Asked without slack_sdk's waits on a 429: the caller decides how long to wait.
        """
        response = await self._counted(
            "conversations.replies",
            self._queued.conversations_replies(
                channel=channel, ts=thread_ts, include_all_metadata=True, cursor=cursor, limit=200
            ),
        )
        messages: list[dict[str, Any]] = response.get("messages") or []
        for message in messages:
            meta = message.get("metadata") or {}
            if meta.get("event_type") == event_type and meta.get("event_payload") == payload:
                return str(message["ts"]), None
        next_cursor = (response.get("response_metadata") or {}).get("next_cursor")
        return None, str(next_cursor) if next_cursor else None

    async def _counted(
        self, method: str, call: Coroutine[Any, Any, AsyncSlackResponse]
    ) -> AsyncSlackResponse:
        try:
            return await call
        except SlackApiError as exc:
            SLACK_ERRORS.labels(
                method, str(exc.response.get("error") or exc.response.status_code)
            ).inc()
            raise

    def _scrub(self, value: Any) -> Any:
        if isinstance(value, str):
            return self._redact(value)
        if isinstance(value, dict):
            return {key: self._scrub(item) for key, item in value.items()}
        if isinstance(value, list):
            return [self._scrub(item) for item in value]
        return value
