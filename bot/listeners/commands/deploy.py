"""`/deploy`: ack at once (a usage error is the ack), then act, then answer who asked."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncRespond

from bot import blocks
from bot.commands import parse
from bot.door import Door
from bot.listeners.dedupe import first_time
from bot.listeners.errors import answer, on_error
from bot.usage import UsageError
from bot.usecases.common import Actor


async def deploy(door: Door, ack: AsyncAck, command: dict[str, Any], respond: AsyncRespond) -> None:
    try:
        request = parse(command.get("text", ""), door.apps)
        if (app := getattr(request, "app", None)) is not None:
            door.app(app)  # a "did you mean" before anything else happens
    except UsageError as exc:
        await ack(text=blocks.usage_error(str(exc), exc.usage), response_type="ephemeral")
        return
    await ack()
    door.working()
    if not await first_time(door, command):
        return
    actor = Actor(user=command["user_id"], channel=command["channel_id"])
    try:
        reply = await door.command(request, actor)
    except Exception as exc:  # noqa: BLE001 - every failure is answered in one place
        await on_error(exc, command, respond)
        return
    await answer(respond, reply)
