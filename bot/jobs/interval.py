"""One interval job on the scheduler, the way the poller and the watcher run: one run at a time,
and a stop that waits for the run under way (shutting the scheduler down would cancel it)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from apscheduler.events import (
    EVENT_JOB_ERROR,
    EVENT_JOB_EXECUTED,
    EVENT_JOB_MISSED,
    EVENT_JOB_SUBMITTED,
    JobEvent,
)
from apscheduler.schedulers.asyncio import AsyncIOScheduler


class IntervalJob:
    def __init__(self, job_id: str, run: Callable[[], Awaitable[int]]) -> None:
        self._id = job_id
        self._run = run
        self._running = asyncio.Lock()  # held for a whole run: stopping waits for it
        self._stopped = False
        self._jobs = 0  # scheduler runs submitted and not yet ended
        self._no_job = asyncio.Event()
        self._no_job.set()

    async def once(self) -> int:
        """One run now (the scheduler's, or a test's), after the one under way; 0 once stopped."""
        async with self._running:
            return 0 if self._stopped else await self._run()

    async def stop(self) -> None:
        """No run from now on; wait for the one under way and its scheduler run to end.

        Shutting the scheduler down cancels a run still going, and APScheduler logs that as an
        error with a traceback: the caller pauses the scheduler, waits here, then shuts it down.
        """
        self._stopped = True
        async with self._running:
            pass
        await self._no_job.wait()

    def schedule(self, scheduler: AsyncIOScheduler, seconds: float) -> None:
        scheduler.add_job(
            self.once,
            "interval",
            seconds=seconds,
            id=self._id,
            max_instances=1,
            coalesce=True,
            replace_existing=True,
        )
        scheduler.add_listener(
            self._counted,
            EVENT_JOB_SUBMITTED | EVENT_JOB_EXECUTED | EVENT_JOB_ERROR | EVENT_JOB_MISSED,
        )

    def _counted(self, event: JobEvent) -> None:
        if event.job_id != self._id:
            return
        self._jobs += 1 if event.code == EVENT_JOB_SUBMITTED else -1
        if self._jobs > 0:
            self._no_job.clear()
        else:
            self._no_job.set()
