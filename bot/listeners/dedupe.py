"""Slack retries a request it thinks we missed (X-Slack-Retry-Num): act on each one once.

The check runs after the ack, never before it: a retry is acknowledged like the first copy,
and the store's write lock never stands between Slack and its 3 seconds.
"""

from __future__ import annotations

import logging
from typing import Any

from bot.door import Door

log = logging.getLogger(__name__)


async def first_time(door: Door, body: dict[str, Any]) -> bool:
    """True for the first copy of a slash command or click (Slack's trigger_id names it)."""
    trigger = body.get("trigger_id")
    if not isinstance(trigger, str) or not trigger:
        return True
    if await door.first_time(trigger):
        return True
    log.info("ignored a repeat of request %s", trigger)
    return False
