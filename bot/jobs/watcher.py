"""One scheduled job that looks for deployments started outside Slack (bot/usecases/watch.py)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.jobs.interval import IntervalJob
from bot.models import Clock
from bot.usecases.watch import Watching

log = logging.getLogger(__name__)

JOB_ID = "deploybot-watch"
PRUNE_EVERY = timedelta(hours=1)


class Watcher:
    def __init__(self, watching: Watching, clock: Clock) -> None:
        self._watching = watching
        self._now = clock
        self._pruned: datetime | None = None
        self._job = IntervalJob(JOB_ID, self._look)

    async def look_once(self) -> int:
        """Look at the watched apps whose turn came; how many were looked at."""
        return await self._job.once()

    async def stop(self) -> None:
        """No look from now on; wait for the one under way and its scheduler run to end."""
        await self._job.stop()

    async def _look(self) -> int:
        now = self._now()
        if self._pruned is None or now - self._pruned > PRUNE_EVERY:
            await self._watching.prune()
            self._pruned = now
        return await self._watching.look_once()

    def schedule(self, scheduler: AsyncIOScheduler) -> None:
        if self._watching.apps:  # else nothing announces outside deployments: no job, no request
            self._job.schedule(scheduler, self._watching.interval)
