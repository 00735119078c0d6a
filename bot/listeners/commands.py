"""The `/deploy` slash command: ack at once, then act, then answer the person who asked."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond

from bot import blocks
from bot.commands import UsageError, parse
from bot.context import Actor
from bot.listeners.dedupe import first_time
from bot.listeners.errors import answer, on_error
from bot.service import Service

Handler = Callable[..., Awaitable[None]]


def deploy_command(service: Service) -> Handler:
    async def handle(ack: AsyncAck, command: dict[str, Any], respond: AsyncRespond) -> None:
        try:
            request = parse(command.get("text", ""), service.deps.config.apps)
            if (app := getattr(request, "app", None)) is not None:
                service.app(app)  # a "did you mean" before anything else happens
        except UsageError as exc:
            await ack(text=blocks.usage_error(str(exc), exc.usage), response_type="ephemeral")
            return
        await ack()
        service.working()
        if not await first_time(service.store, command):
            return
        actor = Actor(user=command["user_id"], channel=command["channel_id"])
        try:
            reply = await service.command(request, actor)
        except Exception as exc:  # noqa: BLE001 - every failure is answered in one place
            await on_error(exc, command, respond)
            return
        await answer(respond, reply)

    return handle


COMMANDS = ("/deploy",)


def register(app: AsyncApp, service: Service) -> None:
    for name in COMMANDS:
        app.command(name)(deploy_command(service))
