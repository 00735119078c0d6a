"""What the outbox asks Slack besides posting: was a notice posted already?"""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

from bot.outbox.retry import Failure, judge
from bot.outbox.table import OutboxRow
from bot.outbox.writer import Writer

log = logging.getLogger("bot.outbox")

METADATA_TYPE = "deploybot_notice"


class Deferred(Exception):
    """The look-up could not be done now (rate limited, Slack down): the message waits and is
    looked up again, never posted blind."""

    def __init__(self, failure: Failure) -> None:
        super().__init__(failure.reason)
        self.failure = failure


class Lookups:
    """Finds a notice an earlier attempt may have posted (conversations.replies by metadata).

    The look-up goes page by page, without slack_sdk's waits on a 429 (Slack asks apps outside
    its Marketplace for one call a minute, 15 messages a page): a page that could not be read
    is asked for again on the message's next attempt, from where it stopped, and the channel's
    turn is not held meanwhile.
    """

    def __init__(self, notifier: Writer) -> None:
        self._notifier = notifier
        self._next_page: dict[int, str] = {}  # a message's look-up under way: its next page

    async def posted(self, row: OutboxRow) -> str | None:
        """The reply's ts if an earlier attempt posted it; None if it is not there, or if Slack
        can never say (no thread to look in, a token without the history scopes): then it is
        posted, as a rare duplicate beats a lost announcement. Raises Deferred when the look-up
        must wait."""
        if row.thread_ts is None:
            return None
        cursor = self._next_page.pop(row.id, None)
        while True:
            try:
                ts, cursor = await self._notifier.find_on_page(
                    row.channel, row.thread_ts, METADATA_TYPE, {"notice": row.id}, cursor=cursor
                )
            except Exception as exc:
                failure = judge(exc)
                if not failure.final:
                    if cursor:
                        self._next_page[row.id] = cursor
                    reason = f"conversations.replies {failure.reason}"
                    raise Deferred(
                        dataclasses.replace(failure, reason=reason, unsure=True)
                    ) from exc
                log.warning(
                    "cannot tell whether notice %s was already posted in %s "
                    "(conversations.replies: %s): posting it, as a rare duplicate beats a lost "
                    "announcement",
                    row.id,
                    row.channel,
                    failure.reason,
                )
                return None
            if ts is not None or cursor is None:
                return ts


def metadata(row_id: int) -> dict[str, Any]:
    return {"event_type": METADATA_TYPE, "event_payload": {"notice": row_id}}
