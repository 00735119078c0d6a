"""What the outbox asks Slack besides posting: was a notice posted already, how long to wait."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError

from bot.notifier import Notifier
from bot.outbox.table import OutboxRow

log = logging.getLogger("bot.outbox")

METADATA_TYPE = "deploybot_notice"


async def already_posted(notifier: Notifier, row: OutboxRow) -> str | None:
    """The reply's ts if an earlier attempt posted it; None if not, or if Slack cannot say.

    When the lookup itself fails (rate limited, a token without the history scopes), the
    message is posted anyway: a rare duplicate beats an announcement lost after its attempts.
    """
    if row.thread_ts is None:
        return None
    try:
        return await notifier.find_by_metadata(
            row.channel, row.thread_ts, METADATA_TYPE, {"notice": row.id}
        )
    except SlackApiError as exc:
        reason = exc.response.get("error") or f"HTTP {exc.response.status_code}"
    except (aiohttp.ClientError, TimeoutError) as exc:
        reason = type(exc).__name__
    log.warning(
        "cannot tell whether notice %s was already posted in %s (conversations.replies: %s): "
        "posting it, as a rare duplicate beats a lost announcement",
        row.id,
        row.channel,
        reason,
    )
    return None


def retry_after(exc: SlackApiError) -> timedelta:
    """How long Slack asked us to wait (429 Retry-After, after slack_sdk's own retries)."""
    if exc.response.status_code != 429:
        return timedelta(0)
    headers = {key.lower(): value for key, value in (exc.response.headers or {}).items()}
    try:
        return timedelta(seconds=float(headers.get("retry-after", 1)))
    except ValueError:
        return timedelta(seconds=1)


def metadata(row_id: int) -> dict[str, Any]:
    return {"event_type": METADATA_TYPE, "event_payload": {"notice": row_id}}


# Retrying cannot help with these: the channel or message is gone, or we are not in it.
FINAL_ERRORS = frozenset(
    {"channel_not_found", "not_in_channel", "is_archived", "message_not_found", "invalid_blocks"}
)
