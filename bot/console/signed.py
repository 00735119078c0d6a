"""What the console types, POSTed to the bot's /slack/events signed as Slack signs it."""

from __future__ import annotations

import time
from typing import Any

import httpx
from slack_sdk.signature import SignatureVerifier


class SignedPoster:
    def __init__(self, secret: str) -> None:
        self.secret = secret
        self.url = ""  # the bot's, once it listens
        self._http = httpx.AsyncClient(timeout=30)

    async def text(self, body: bytes) -> str:
        """POST a form; return the text the bot acked with."""
        return str((await self.post(body)).get("text", ""))

    async def post(
        self, body: bytes, *, content_type: str = "application/x-www-form-urlencoded"
    ) -> dict[str, Any]:
        """POST to /slack/events, signed as Slack signs; return what the bot acked with."""
        timestamp = str(int(time.time()))
        signature = SignatureVerifier(self.secret).generate_signature(
            timestamp=timestamp, body=body.decode()
        )
        assert signature is not None
        response = await self._http.post(
            f"{self.url}/slack/events",
            content=body,
            headers={
                "Content-Type": content_type,
                "X-Slack-Request-Timestamp": timestamp,
                "X-Slack-Signature": signature,
            },
        )
        if response.content and response.headers.get("content-type", "").startswith(
            "application/json"
        ):
            acked = response.json()
            return acked if isinstance(acked, dict) else {}
        return {}

    async def close(self) -> None:
        await self._http.aclose()
