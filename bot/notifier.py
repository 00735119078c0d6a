"""Posts and updates the root message and its thread; the only writer to Slack."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from slack_sdk.models.blocks import Block
from slack_sdk.web.async_client import AsyncWebClient

from bot.redact import Redactor

MAX_BLOCKS = 50


class Notifier:
    def __init__(self, client: AsyncWebClient, redact: Redactor) -> None:
        self._client = client
        self._redact = redact

    async def post(
        self,
        channel: str,
        text: str,
        blocks: Sequence[Block],
        *,
        thread_ts: str | None = None,
        broadcast: bool = False,
    ) -> str:
        """Post a message (a thread reply with `thread_ts`; shown in the channel too with
        `broadcast`) and return its ts."""
        response = await self._client.chat_postMessage(
            channel=channel,
            thread_ts=thread_ts,
            reply_broadcast=broadcast or None,
            text=self._redact(text),
            blocks=self._blocks(blocks),
            unfurl_links=False,
        )
        return str(response["ts"])

    async def update(self, channel: str, ts: str, text: str, blocks: Sequence[Block]) -> None:
        await self._client.chat_update(
            channel=channel, ts=ts, text=self._redact(text), blocks=self._blocks(blocks)
        )

    async def ephemeral(
        self, channel: str, user: str, text: str, blocks: Sequence[Block] = ()
    ) -> None:
        await self._client.chat_postEphemeral(
            channel=channel,
            user=user,
            text=self._redact(text),
            blocks=self._blocks(blocks) if blocks else None,
        )

    def _blocks(self, blocks: Sequence[Block]) -> list[dict[str, Any]]:
        # to_dict() validates Slack's limits; redacting the finished dicts catches every field.
        return [self._scrub(block.to_dict()) for block in blocks[:MAX_BLOCKS]]

    def _scrub(self, value: Any) -> Any:
        if isinstance(value, str):
            return self._redact(value)
        if isinstance(value, dict):
            return {key: self._scrub(item) for key, item in value.items()}
        if isinstance(value, list):
            return [self._scrub(item) for item in value]
        return value
