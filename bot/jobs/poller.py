"""One scheduled job that polls every in-flight deployment this replica holds, concurrently."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.jobs.interval import IntervalJob
from bot.metrics import IN_FLIGHT, POLL_TICK
from bot.models import Clock, Tracked
from bot.outbox import Outbox
from bot.providers.base import ProviderError
from bot.store import Store
from bot.usecases.follow import Following
from bot.usecases.queue import Queueing
from bot.usecases.recover import Recovering

log = logging.getLogger(__name__)

JOB_ID = "deploybot-poll"
# Claims (repeat guards) and delivered messages are kept a week, then forgotten.
KEEP = timedelta(days=7)
PRUNE_EVERY = timedelta(hours=1)


class Poller:
    def __init__(
        self,
        follow: Following,
        queue: Queueing,
        store: Store,
        outbox: Outbox,
        clock: Clock,
        *,
        recover: Recovering,
        owner: str,
        lease_seconds: float,
        concurrency: int = 50,
    ) -> None:
        self._follow = follow
        self._queue = queue
        self._recover = recover
        self._store = store
        self._outbox = outbox
        self._now = clock
        self._owner = owner
        self._lease = lease_seconds
        self._slots = asyncio.Semaphore(concurrency)
        self._pruned: datetime | None = None
        self._job = IntervalJob(JOB_ID, self._tick)

    def released(self) -> None:
        """This replica handed its deployments over: it holds none."""
        IN_FLIGHT.set(0)

    async def stop(self) -> None:
        """No tick from now on; wait for the one under way and its scheduler run to end."""
        await self._job.stop()

    async def poll_once(self) -> int:
        """Poll each in-flight deployment this replica holds once; return how many."""
        return await self._job.once()

    async def _tick(self) -> int:
        now = self._now()
        if self._pruned is None or now - self._pruned > PRUNE_EVERY:
            await self._store.claims.prune(before=now - KEEP)
            await self._outbox.prune(before=now - KEEP)
            self._pruned = now
        with POLL_TICK.time():
            await self._outbox.sweep()
            rows = await self._store.leases.take(self._owner, seconds=self._lease)
            IN_FLIGHT.set(len(rows))
            await asyncio.gather(*(self._one(row) for row in rows))
            # The lease taken at the start lasts two intervals: a tick that ended well within
            # one is taken again by the next tick in time, with no write now.
            if rows and self._now() - now > timedelta(seconds=self._lease / 4):
                await self._store.leases.renew(self._owner, seconds=self._lease)
            await self._recover()  # before the line: an app it frees starts its next at once
            await self._next_in_line()
        return len(rows)

    async def _next_in_line(self) -> None:
        """Deploys waiting their turn start once what was in flight has ended (just now)."""
        try:
            await self._queue.start_waiting()
        except Exception:
            log.exception("starting the next deploy in line failed")

    async def _one(self, row: Tracked) -> None:
        async with self._slots:
            try:
                await self._follow(row)
            except ProviderError as exc:
                log.warning("polling %s %s: %s", row.app, row.deployment_id, exc)
            except Exception:
                # One deployment's surprise must not stop the others' threads.
                log.exception("polling %s %s failed", row.app, row.deployment_id)

    def schedule(self, scheduler: AsyncIOScheduler, interval: float) -> None:
        self._job.schedule(scheduler, interval)
