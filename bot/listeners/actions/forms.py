"""A form sent (view_submission): the rollback's reason."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from slack_bolt.async_app import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond

from bot import history_blocks
from bot.commands import reason_problem
from bot.door import Door
from bot.listeners.after_ack import carry_on
from bot.listeners.errors import answer, on_error
from bot.usecases.common import Actor

log = logging.getLogger(__name__)


def typed_reason(body: dict[str, Any]) -> str:
    values = ((body.get("view") or {}).get("state") or {}).get("values") or {}
    value = (values.get(history_blocks.REASON_BLOCK) or {}).get(history_blocks.REASON_INPUT) or {}
    typed = value.get("value")
    return typed.strip() if isinstance(typed, str) else ""


async def rollback_reason(
    door: Door, ack: AsyncAck, body: dict[str, Any]
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
    return carry_on(door, body, None, lambda: _roll_back(door, body, reason))


async def _roll_back(door: Door, body: dict[str, Any], reason: str) -> None:
    try:
        meta = json.loads((body.get("view") or {}).get("private_metadata") or "")
        plan, channel, url = meta["plan"], meta["channel"], meta["response_url"]
        user = body["user"]["id"]
    except (ValueError, KeyError, TypeError):
        log.warning("a rollback form came back without what it was opened with; ignored")
        return
    respond = AsyncRespond(response_url=url)
    said_to = {"user_id": user, "channel_id": channel, "response_url": url}
    try:
        reply = await door.rollback(plan, reason, Actor(user=user, channel=channel))
    except Exception as exc:  # noqa: BLE001 - every failure is answered in one place
        await on_error(exc, said_to, respond)
        return
    # The rollback's confirmation is an ephemeral message: replace it with what happened.
    await answer(respond, reply, replace_original=True)
