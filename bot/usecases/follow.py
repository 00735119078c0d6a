"""Following (the poller's use-case): read one deployment's status and tell its thread, once."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime, timedelta

from bot.config import Config
from bot.dora import duration
from bot.models import Clock, Tracked
from bot.providers.base import Provider, ProviderError
from bot.store import Store
from bot.thread import Thread

log = logging.getLogger(__name__)


class Following:
    def __init__(
        self,
        config: Config,
        providers: Mapping[str, Provider],
        store: Store,
        thread: Thread,
        clock: Clock,
    ) -> None:
        settings = config.settings
        self._providers = providers
        self._store = store
        self._thread = thread
        self._now = clock
        self._max = timedelta(seconds=settings.deploybot_max_duration)
        self._outage_after = timedelta(seconds=settings.deploybot_outage_notice_after)

    async def __call__(self, row: Tracked) -> None:
        """Read one tracked deployment's status; announce a change, an outage, a give-up once."""
        provider = self._providers.get(row.app)
        if provider is None or row.deployment_id is None:
            log.warning("%s is gone from the config; not following %s", row.app, row.deployment_id)
            return
        now = self._now()
        if now - (row.triggered_at or row.created_at) > self._max:  # from its trigger
            await self._give_up(row, now)
            return
        try:
            deployment = await provider.poll(row.deployment_id)
        except ProviderError as exc:
            await self._unreachable(row, provider.name, exc, now)
            raise
        if row.failing_since is not None:
            await self._reachable(row, provider.name)
        await self._thread.settle(row, deployment)

    async def _unreachable(
        self, row: Tracked, provider: str, exc: ProviderError, now: datetime
    ) -> None:
        """The first failure is remembered; a long outage is said once in the thread."""
        if row.failing_since is None:
            await self._store.failing(row.id, now)
            return
        quiet_for = now - row.failing_since
        if row.outage_noticed or quiet_for < self._outage_after:
            return
        quiet = duration(int(quiet_for.total_seconds()))
        text = (
            f":warning: {provider.capitalize()} has not answered for {quiet} ({exc}). "
            "I keep trying, and will say here when it answers again."
        )
        await self._thread.say_once(
            row, text, lambda also: self._store.outage(row.id, noticed=True, also=also)
        )

    async def _reachable(self, row: Tracked, provider: str) -> None:
        if not row.outage_noticed:
            await self._store.failing(row.id, None)
            return
        text = f":white_check_mark: {provider.capitalize()} answers again; following resumes."
        await self._thread.say_once(
            row, text, lambda also: self._store.outage(row.id, noticed=False, also=also)
        )

    async def _give_up(self, row: Tracked, now: datetime) -> None:
        took = duration(int((now - (row.triggered_at or row.created_at)).total_seconds()))
        text = (
            f":hourglass: `{row.deployment_id}` is still {row.status.label} after {took}: "
            f"I stop following it here. `/deploy status {row.app}` shows where it stands."
        )
        await self._thread.say_once(row, text, lambda also: self._store.abandon(row.id, also=also))
