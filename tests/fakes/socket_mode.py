"""Slack's Socket Mode, faked: apps.connections.open hands out a WebSocket on 127.0.0.1 that
sends envelopes to the bot and records its acknowledgements."""

from __future__ import annotations

import asyncio
import itertools
import json
from typing import Any

from aiohttp import WSMsgType, web

from tests.fakes.slack import FakeSlack


class FakeSocketMode:
    def __init__(self, slack: FakeSlack, app_token: str = "xapp-test-token") -> None:
        self.app_token = app_token
        self.acks: list[dict[str, Any]] = []
        self.connections = 0
        self._ids = itertools.count(1)
        self._outgoing: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.url = ""
        slack.on("apps.connections.open", self._open)
        slack.app_tokens.add(app_token)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/link", self._link)
        return app

    def _open(self, _: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "url": f"{self.url.replace('http', 'ws', 1)}/link"}

    def slash_command(self, text: str, *, user: str, channel: str) -> str:
        """Queue a slash command as Slack sends it over the socket; return its envelope id."""
        envelope_id = f"env-{next(self._ids)}"
        payload = {
            "command": "/deploy",
            "text": text,
            "user_id": user,
            "channel_id": channel,
            "team_id": "T0TEAM",
            "api_app_id": "A0DEPLOYBOT",
            "trigger_id": f"trigger-{envelope_id}",
            "response_url": "https://hooks.slack.invalid/commands/1",
        }
        self._outgoing.put_nowait(
            {
                "envelope_id": envelope_id,
                "type": "slash_commands",
                "accepts_response_payload": True,
                "payload": payload,
            }
        )
        return envelope_id

    async def _link(self, request: web.Request) -> web.WebSocketResponse:
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        self.connections += 1
        await socket.send_json({"type": "hello", "num_connections": 1})
        sender = asyncio.create_task(self._send(socket))
        try:
            async for message in socket:
                if message.type == WSMsgType.TEXT:
                    self.acks.append(json.loads(message.data))
        finally:
            sender.cancel()
        return socket

    async def _send(self, socket: web.WebSocketResponse) -> None:
        while True:
            await socket.send_json(await self._outgoing.get())
