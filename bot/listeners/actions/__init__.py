"""Button clicks."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond

from bot import blocks
from bot.door import Door
from bot.listeners.actions.buttons import button


def register(app: AsyncApp, door: Door) -> None:
    async def handle(ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond) -> None:
        await button(door, ack, body, respond)

    for action_id in blocks.ACTIONS:
        app.action({"action_id": action_id})(handle)  # a dict matcher tolerates a bare action
