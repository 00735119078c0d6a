"""What the outbox needs of Slack: the seam between the outbox and `notifier.Notifier`, which
makes the calls (redacted, counted). Tests hand the outbox their own writer through it."""

from __future__ import annotations

from typing import Any, Protocol


class Writer(Protocol):
    async def post(
        self,
        channel: str,
        text: str,
        blocks: list[dict[str, Any]],
        *,
        thread_ts: str | None = None,
        broadcast: bool = False,
        metadata: dict[str, Any] | None = None,
        queued: bool = False,
    ) -> str:
        """Post a message (a reply with `thread_ts`); its ts."""
        ...

    async def update(
        self,
        channel: str,
        ts: str,
        text: str,
        blocks: list[dict[str, Any]],
        *,
        queued: bool = False,
    ) -> None:
        """Replace a message's text and blocks."""
        ...

    async def permalink(self, channel: str, ts: str) -> str | None:
        """A message's link, or None when Slack gives none."""
        ...

    async def find_on_page(
        self,
        channel: str,
        thread_ts: str,
        event_type: str,
        payload: dict[str, Any],
        *,
        cursor: str | None = None,
    ) -> tuple[str | None, str | None]:
        """One page of a thread: the ts of a reply carrying this metadata, and the next cursor."""
        ...
