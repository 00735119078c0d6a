"""Button clicks, and the forms they open."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.door import Door
from bot.listeners.actions.buttons import button
from bot.listeners.actions.forms import rollback_reason
from bot.render import blocks, history_blocks


def register(app: AsyncApp, door: Door) -> None:
    async def handle(
        ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond, client: AsyncWebClient
    ) -> None:
        await button(door, ack, body, respond, client)

    async def submitted(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await rollback_reason(door, ack, body, client)

    for action_id in blocks.ACTIONS:
        app.action({"action_id": action_id})(handle)  # a dict matcher tolerates a bare action
    app.view(history_blocks.ROLLBACK_REASON)(submitted)
