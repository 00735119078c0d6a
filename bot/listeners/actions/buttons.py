"""Approve, discard, confirm a rollback: one handler for the bot's buttons."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncRespond

from bot import blocks
from bot.door import Door
from bot.listeners.dedupe import first_time
from bot.listeners.errors import answer, on_error
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


async def button(door: Door, ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond) -> None:
    await ack()
    door.working()
    if not await first_time(door, body):
        return
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
    try:
        reply = await door.click(action_id, value, actor)
    except Exception as exc:  # noqa: BLE001 - every failure is answered in one place
        await on_error(exc, body, respond)
        return
    # The rollback confirmation is an ephemeral message: replace it with what happened.
    await answer(respond, reply, replace_original=action_id == blocks.ROLLBACK)
