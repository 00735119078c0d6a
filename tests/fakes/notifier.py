"""A stand-in for bot.outbox.notifier.Notifier in unit tests: records the calls, can refuse them."""

from __future__ import annotations

import time
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_slack_response import AsyncSlackResponse


class FakeNotifier:
    """Records what Slack would get, and when; can refuse the next posts (or edits)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, str]] = []
        self.times: list[tuple[float, str, str]] = []  # (monotonic, "post"/"update", channel)
        self.refuse: str | None = None
        self.refuse_status = 200
        self.refuse_on = "post"
        self.retry_after: str | None = None
        self.refused = 0
        self.refuse_times: int | None = None  # refuse only this many more calls, if set

    async def post(self, channel: str, text: str, blocks: Any, **options: Any) -> str:
        self._maybe_refuse("post")
        self._record("post", channel, options.get("thread_ts") or "", text)
        return f"ts-{len(self.calls)}"

    async def update(self, channel: str, ts: str, text: str, blocks: Any, **options: Any) -> None:
        self._maybe_refuse("update")
        self._record("update", channel, ts, text)

    async def find_on_page(self, *args: Any, **options: Any) -> tuple[str | None, str | None]:
        return None, None

    async def permalink(self, channel: str, ts: str) -> str | None:
        return f"https://fake.slack.com/archives/{channel}/p{ts.replace('.', '')}"

    def _record(self, method: str, channel: str, ts: str, text: str) -> None:
        self.calls.append((method, ts, text))
        self.times.append((time.monotonic(), method, channel))

    def _maybe_refuse(self, method: str) -> None:
        if not self.refuse or method != self.refuse_on:
            return
        if self.refuse_times is not None:
            if self.refuse_times <= 0:
                return
            self.refuse_times -= 1
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
