"""The `/deploy` slash command: ack at once, then act."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot import blocks
from bot.commands import Deploy, Help, UsageError, parse
from bot.service import Service

log = logging.getLogger(__name__)

Handler = Callable[..., Awaitable[None]]


def deploy_command(service: Service) -> Handler:
    async def handle(ack: AsyncAck, command: dict[str, Any]) -> None:
        user, channel = command["user_id"], command["channel_id"]
        try:
            request = parse(command.get("text", ""))
            if isinstance(request, Deploy):
                service.app(request.app)
        except UsageError as exc:
            await ack(text=blocks.usage_error(str(exc), exc.usage), response_type="ephemeral")
            return
        if isinstance(request, Help):
            await ack(text=blocks.help_text(), response_type="ephemeral")
            return
        await ack()
        await service.deploy(request, user=user, channel=channel)

    return handle


def register(app: AsyncApp, service: Service) -> None:
    app.command("/deploy")(deploy_command(service))
