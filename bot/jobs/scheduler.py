"""The one scheduler and the jobs on it: started together, stopped with no run cut half-way."""

from __future__ import annotations

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.jobs.poller import Poller
from bot.jobs.watcher import Watcher


class Scheduler:
    def __init__(self, poller: Poller, watcher: Watcher) -> None:
        self.poller = poller
        self.watcher = watcher
        self.scheduler = AsyncIOScheduler()

    def start(self, poll_interval: float) -> None:
        self.poller.schedule(self.scheduler, poll_interval)
        self.watcher.schedule(self.scheduler)
        self.scheduler.start()

    async def running(self) -> bool:
        """Whether the scheduler runs (a part of /healthz)."""
        return bool(self.scheduler.running)

    async def stop(self) -> None:
        """Take no new run, wait for the ones under way: shutting down would cancel them."""
        if self.scheduler.running:
            self.scheduler.pause()
        await self.poller.stop()
        await self.watcher.stop()
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
