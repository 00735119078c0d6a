"""Approve, discard, roll back, cancel: one handler for the bot's buttons."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.door import Door
from bot.listeners.after_ack import carry_on
from bot.listeners.errors import answer
from bot.render import blocks
from bot.usecases.common import Actor


def actor_of(body: dict[str, Any]) -> Actor | None:
    """Who clicked where, or None if the click lacks it."""
    user = (body.get("user") or {}).get("id")
    container = body.get("container") or {}
    channel = (body.get("channel") or {}).get("id") or container.get("channel_id")
    if not (isinstance(user, str) and isinstance(channel, str)):
        return None
    ts, thread = container.get("message_ts"), container.get("thread_ts")
    return Actor(
        user=user,
        channel=channel,
        message_ts=ts if isinstance(ts, str) else None,
        thread_ts=thread if isinstance(thread, str) else None,
    )


async def button(
    door: Door,
    ack: AsyncAck,
    body: dict[str, Any],
    respond: AsyncRespond,
    client: AsyncWebClient,
) -> asyncio.Task[None]:
    """The ack; then the click, carried out in the task returned."""
    await ack()
    return carry_on(door, body, respond, lambda: _clicked(door, body, respond, client))


async def _clicked(
    door: Door, body: dict[str, Any], respond: AsyncRespond, client: AsyncWebClient
) -> None:
    actions = body.get("actions") or [{}]
    action_id, value = actions[0].get("action_id"), actions[0].get("value")
    actor = actor_of(body)
    if actor is None or not isinstance(action_id, str) or not isinstance(value, str):
        await respond(
            text=":no_entry: That click was missing its details; nothing was done.",
            response_type="ephemeral",
            replace_original=False,
        )
        return
    if action_id == blocks.ROLLBACK:
        await _ask_why(door, body, value, actor, client)
        return
    await answer(respond, await door.clicks.click(action_id, value, actor))


async def _ask_why(
    door: Door, body: dict[str, Any], value: str, actor: Actor, client: AsyncWebClient
) -> None:
    """A rollback's button opens the form asking why; the form's answer carries it out
    (forms.rollback_reason), and replaces the confirmation through its response_url."""
    metadata = json.dumps(
        {"plan": value, "channel": actor.channel, "response_url": body.get("response_url")}
    )
    form = await door.clicks.rollback_form(value, actor, metadata)
    await client.views_open(trigger_id=body["trigger_id"], view=form)
