"""What a listener does after its ack runs in a task of its own.

Bolt answers Slack when a listener returns (`process_before_response=True`), so a listener parses,
acks and returns: nothing but parsing stands between the request and its answer. Bolt's other
way (the listener in a task, polled every 10 ms until it has acked) put at least a poll and a turn
of the event loop, full of earlier commands' work, between every ack and its answer.

A copy of a request that Slack sends again (X-Slack-Retry-Num) is recognised here, after the ack:
acknowledged like the first copy, then dropped.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncRespond

from bot.door import Door
from bot.listeners.dedupe import first_time
from bot.listeners.errors import on_error

log = logging.getLogger(__name__)

# The event loop keeps only a weak reference to a task: these are kept until they end.
_running: set[asyncio.Task[None]] = set()


def carry_on(
    door: Door,
    body: dict[str, Any],
    respond: AsyncRespond | None,
    work: Callable[[], Awaitable[None]],
) -> asyncio.Task[None]:
    """Start `work` once for this request, after the listener has returned; a failure that
    `work` does not answer itself is answered and logged by `on_error`."""
    task = asyncio.get_running_loop().create_task(_run(door, body, respond, work))
    _running.add(task)
    task.add_done_callback(_ended)
    return task


async def _run(
    door: Door,
    body: dict[str, Any],
    respond: AsyncRespond | None,
    work: Callable[[], Awaitable[None]],
) -> None:
    door.working()  # a shutdown finishes what was acknowledged
    try:
        if await first_time(door, body):
            await work()
    except Exception as exc:  # noqa: BLE001 - every failure is answered in one place
        await on_error(exc, body, respond)


def _ended(task: asyncio.Task[None]) -> None:
    _running.discard(task)
    if not task.cancelled() and (error := task.exception()) is not None:
        log.error("answering a failure failed: %s", error, exc_info=error)
