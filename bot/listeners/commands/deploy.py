"""`/deploy`: parse and ack at once (a usage error is the ack); act and answer after the ack."""

from __future__ import annotations

import asyncio
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncRespond

from bot.commands import Deploy, Lock, Rollback, Unlock
from bot.commands.parser import parse
from bot.commands.usage import UsageError
from bot.door import Door
from bot.listeners.after_ack import carry_on
from bot.listeners.errors import answer
from bot.render import guide
from bot.usecases.common import Actor

# A deploy, a lock or a rollback is said in a channel, where everyone sees it and its thread.
IN_A_DM = (
    ":information_source: deploybot works in channels: its messages and threads are where the "
    "team sees them. Type this in the app's channel (invite me there with `/invite @deploybot` "
    "if I am not in it yet). Here, `/deploy status`, `history`, `stats`, `logs` and `apps` work."
)


def in_a_dm(command: dict[str, Any]) -> bool:
    """A direct message or a group DM: Slack names them `directmessage` and `mpdm-...`."""
    name = str(command.get("channel_name") or "")
    channel = str(command.get("channel_id") or "")
    return channel.startswith("D") or name == "directmessage" or name.startswith("mpdm-")


async def deploy(
    door: Door, ack: AsyncAck, command: dict[str, Any], respond: AsyncRespond
) -> asyncio.Task[None] | None:
    """The ack; then the command, carried out in the task returned."""
    try:
        request = parse(command.get("text", ""), door.apps)
        if (app := getattr(request, "app", None)) is not None:
            door.app(app)  # a "did you mean" before anything else happens
    except UsageError as exc:
        await ack(text=guide.usage_error(str(exc), exc.usage), response_type="ephemeral")
        return None
    if isinstance(request, Deploy | Lock | Unlock | Rollback) and in_a_dm(command):
        await ack(text=IN_A_DM, response_type="ephemeral")
        return None
    await ack()
    actor = Actor(user=command["user_id"], channel=command["channel_id"])

    async def carry_out() -> None:
        await answer(respond, await door.command(request, actor))

    return carry_on(door, command, respond, carry_out)
