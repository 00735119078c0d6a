"""A form sent (view_submission): the rollback's reason."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from slack_bolt.async_app import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.commands.reasons import reason_problem
from bot.door import Door
from bot.listeners.after_ack import carry_on
from bot.listeners.errors import answer, words_for
from bot.render import history_blocks
from bot.render.blocks import Message
from bot.usecases.common import Actor

log = logging.getLogger(__name__)


def typed_reason(body: dict[str, Any]) -> str:
    values = ((body.get("view") or {}).get("state") or {}).get("values") or {}
    value = (values.get(history_blocks.REASON_BLOCK) or {}).get(history_blocks.REASON_INPUT) or {}
    typed = value.get("value")
    return typed.strip() if isinstance(typed, str) else ""


async def rollback_reason(
    door: Door, ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient
) -> asyncio.Task[None] | None:
    """A blank or unshowable reason is said in the form, which stays open; otherwise the form
    closes and the rollback is carried out (in the task returned), answered where its button
    was."""
    reason = typed_reason(body)
    problem = reason_problem(reason)
    if problem is not None:
        await ack(response_action="errors", errors={history_blocks.REASON_BLOCK: problem})
        return None
    await ack()
    return carry_on(door, body, None, lambda: _roll_back(door, body, reason, client))


async def _roll_back(door: Door, body: dict[str, Any], reason: str, client: AsyncWebClient) -> None:
    try:
        meta = json.loads((body.get("view") or {}).get("private_metadata") or "")
        plan, channel, url = meta["plan"], meta["channel"], meta["response_url"]
        user = body["user"]["id"]
    except (ValueError, KeyError, TypeError):
        log.warning("a rollback form came back without what it was opened with; ignored")
        return
    respond = AsyncRespond(response_url=url)
    said_to = {"user_id": user, "channel_id": channel, "response_url": url}

    async def tell(message: Message) -> None:
        """Said once the rollback's thread exists, before anything is said in it: it replaces
        the confirmation (an ephemeral message). A form sent after its response_url expired
        (Slack's work for 30 minutes) is answered in the channel, or in a DM."""
        if not await answer(respond, message, replace_original=True):
            await _tell(client, user, channel, message)

    try:
        await door.clicks.rollback(plan, reason, Actor(user=user, channel=channel), tell=tell)
    except Exception as exc:  # noqa: BLE001 - every failure is answered in one place
        refused = Message(words_for(exc, said_to))  # beside the confirmation, or what was told
        if not await answer(respond, refused, replace_original=False):
            await _tell(client, user, channel, refused)


async def _tell(client: AsyncWebClient, user: str, channel: str, reply: Message) -> None:
    text, found = reply.payload()
    try:
        await client.chat_postEphemeral(channel=channel, user=user, text=text, blocks=found)
    except SlackApiError:
        await client.chat_postMessage(channel=user, text=text, blocks=found)
