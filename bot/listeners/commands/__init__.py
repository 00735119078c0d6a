"""Slash commands."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond

from bot.door import Door
from bot.listeners.commands.deploy import deploy

COMMANDS = ("/deploy",)


def register(app: AsyncApp, door: Door) -> None:
    async def handle(ack: AsyncAck, command: dict[str, Any], respond: AsyncRespond) -> None:
        await deploy(door, ack, command, respond)  # returns once acked; the rest carries on

    for name in COMMANDS:
        app.command(name)(handle)
