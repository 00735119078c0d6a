"""The DORA figures of /metrics, kept as running figures rather than recounted per scrape.

Each scrape reads only the rows written or changed since the one before (an index search on
`updated_at`, empty when nothing happened), and recomputes an app's figures only when one of its
rows changed or its oldest deployment left the window. What is counted, and how, is exactly what
`/deploy stats` counts from the bot's own records (`bot.dora`): the provider's list
is not read at scrape time.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta

from bot import dora
from bot.dora import Stats, compute
from bot.metrics import DORA_DAYS, set_dora
from bot.models import Clock, Tracked
from bot.store import Store

# A row's `updated_at` is its writer's clock when the change was made; it is committed a moment
# later, maybe by a replica whose clock is behind. Changes are read again this far back.
SETTLE = timedelta(seconds=30)


class DoraFigures:
    def __init__(
        self, store: Store, apps: Collection[str], clock: Clock, *, days: int = DORA_DAYS
    ) -> None:
        self._store = store
        self._now = clock
        self._window = timedelta(days=days)
        self._days = days
        # The rows `/deploy stats` would read: asked for within the window and a day before it.
        self._rows: dict[str, dict[int, Tracked]] = {app: {} for app in apps}
        self._stats: dict[str, Stats] = {}
        self._until: dict[str, datetime] = {}  # when an app's oldest row leaves the window
        self._stale: set[str] = set(apps)
        self._checked: datetime | None = None

    async def refresh(self) -> None:
        """What a scrape does: read what changed, then set each app's gauges."""
        await self.catch_up()
        self.publish()

    async def catch_up(self) -> int:
        """Read the rows changed since the last look (the whole window, the first time);
        returns how many were read."""
        now = self._now()
        if self._checked is None:
            rows = await self._store.since(self._oldest(now))
        else:
            rows = await self._store.changed_since(self._checked - SETTLE)
        self._checked = now
        for row in rows:
            kept = self._rows.get(row.app)
            if kept is not None and kept.get(row.id) != row:
                kept[row.id] = row
                self._stale.add(row.app)
        return len(rows)

    def publish(self) -> None:
        """Set each app's gauges; an app's figures are computed again only if they moved."""
        now = self._now()
        for app, rows in self._rows.items():
            if app in self._stale or now > self._until[app]:
                self._stats[app] = self._compute(app, rows, now)
                self._stale.discard(app)
            stats = self._stats[app]
            set_dora(
                app,
                per_day=stats.per_day,
                failure_rate=stats.change_failure_rate,
                restore_seconds=stats.median_restore_seconds,
            )

    def figures(self, app: str) -> Stats:
        """The figures last published for `app`."""
        return self._stats[app]

    def _compute(self, app: str, rows: dict[int, Tracked], now: datetime) -> Stats:
        oldest = self._oldest(now)
        for row_id in [i for i, row in rows.items() if row.created_at < oldest]:
            del rows[row_id]
        # The figures move by themselves when a row leaves the window, and when it is no longer
        # among the rows `/deploy stats` reads (a day later).
        moves = [
            row.created_at + self._window + extra
            for row in rows.values()
            for extra in (timedelta(0), timedelta(days=1))
        ]
        self._until[app] = min((t for t in moves if t >= now), default=now + self._window)
        return compute(dora.records(app, list(rows.values()), []), now=now, days=self._days)

    def _oldest(self, now: datetime) -> datetime:
        return now - self._window - timedelta(days=1)
