"""A stand-in for bot.notifier.Notifier in unit tests: records the calls, can refuse a post."""

from __future__ import annotations

from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_slack_response import AsyncSlackResponse


class FakeNotifier:
    """Records what Slack would get; can refuse the next post."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, str]] = []
        self.refuse: str | None = None
        self.refuse_status = 200
        self.retry_after: str | None = None
        self.refused = 0

    async def post(self, channel: str, text: str, blocks: Any, **options: Any) -> str:
        if self.refuse:
            response = AsyncSlackResponse(
                client=None,
                http_verb="POST",
                api_url="",
                req_args={},
                data={"ok": False, "error": self.refuse},
                headers={"Retry-After": self.retry_after} if self.retry_after else {},
                status_code=self.refuse_status,
            )
            self.refused += 1
            raise SlackApiError(self.refuse, response)
        self.calls.append(("post", options.get("thread_ts") or "", text))
        return f"ts-{len(self.calls)}"

    async def update(self, channel: str, ts: str, text: str, blocks: Any) -> None:
        self.calls.append(("update", ts, text))

    async def find_by_metadata(self, *args: Any) -> str | None:
        return None
