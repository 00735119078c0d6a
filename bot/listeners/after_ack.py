"""What a listener does after its ack runs in a task of its own.

Bolt answers Slack when a listener returns (`process_before_response=True`), so a listener parses,
acks and returns: nothing but parsing stands between the request and its answer. Bolt's other
way (the listener in a task, polled every 10 ms until it has acked) put at least a poll and a turn
of the event loop, full of earlier commands' work, between every ack and its answer.

A copy of a request that Slack sends again (X-Slack-Retry-Num) is recognised here, after the ack:
acknowledged like the first copy, then dropped. That check, the first step of the work, is taken
a few requests at a time: fifty commands acked together and starting their work in the same turn
of the loop (each a store transaction, then the use-case's) put the acks of the next fifty
behind all of it, 100-200 ms (bench.ack_latency); started a few at a time, the work's steps
leave room for the acks between them, and it ends no later.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncRespond

from bot.door import Door
from bot.listeners.dedupe import first_time
from bot.listeners.errors import on_error

log = logging.getLogger(__name__)

STARTING_AT_ONCE = 4  # works checked for repeats at once (the check is one store write)

# The event loop keeps only a weak reference to a task: these are kept until they end.
_running: set[asyncio.Task[None]] = set()
_starting: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
    weakref.WeakKeyDictionary()
)


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
        async with _starting_gate():
            first = await first_time(door, body)
        if first:
            await work()
    except Exception as exc:  # noqa: BLE001 - every failure is answered in one place
        await on_error(exc, body, respond)


def _starting_gate() -> asyncio.Semaphore:
    """One per event loop: an asyncio semaphore belongs to the loop it first waited in."""
    loop = asyncio.get_running_loop()
    gate = _starting.get(loop)
    if gate is None:
        gate = _starting[loop] = asyncio.Semaphore(STARTING_AT_ONCE)
    return gate


def _ended(task: asyncio.Task[None]) -> None:
    _running.discard(task)
    if not task.cancelled() and (error := task.exception()) is not None:
        log.error("answering a failure failed: %s", error, exc_info=error)
