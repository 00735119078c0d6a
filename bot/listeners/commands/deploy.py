"""`/deploy`: parse and ack at once (a usage error is the ack); act and answer after the ack."""

from __future__ import annotations

import asyncio
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncRespond

from bot import blocks
from bot.commands import parse
from bot.door import Door
from bot.listeners.after_ack import carry_on
from bot.listeners.errors import answer
from bot.usage import UsageError
from bot.usecases.common import Actor


async def deploy(
    door: Door, ack: AsyncAck, command: dict[str, Any], respond: AsyncRespond
) -> asyncio.Task[None] | None:
    """The ack; then the command, carried out in the task returned."""
    try:
        request = parse(command.get("text", ""), door.apps)
        if (app := getattr(request, "app", None)) is not None:
            door.app(app)  # a "did you mean" before anything else happens
    except UsageError as exc:
        await ack(text=blocks.usage_error(str(exc), exc.usage), response_type="ephemeral")
        return None
    await ack()
    actor = Actor(user=command["user_id"], channel=command["channel_id"])

    async def carry_out() -> None:
        await answer(respond, await door.command(request, actor))

    return carry_on(door, command, respond, carry_out)
