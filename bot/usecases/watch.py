"""Watching (a scheduled use-case): deployments started outside Slack are announced in their
app's `announce` channel, once, and followed there like the bot's own.

Each look at an app is one request: the first page of its deployments, newest first. What is
new is what stands above the newest deployment seen before; a first look (or one after a long
gap) takes for new only what is in flight, so history is never announced. Seeing a deployment
is an insert that only one caller wins, so no replica or restart announces it twice.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Collection, Mapping, Sequence
from datetime import timedelta

from bot.config import Config
from bot.config.apps import AppConfig
from bot.models import OUTSIDE, Clock, Deployment, Kind
from bot.mrkdwn import escape
from bot.providers.base import Provider, ProviderError
from bot.render.blocks import Card
from bot.render.commits import commit_words
from bot.store import Store
from bot.store.watched import Look, Watched
from bot.thread import OUTSIDE_NOTE, Thread

log = logging.getLogger(__name__)

# A start older than this is a process that died between asking and writing the answer down.
START_LASTS = timedelta(minutes=2)
# Looked at longer ago than this many intervals: what finished meanwhile is history.
GAP_INTERVALS = 3
KEEP_SEEN = timedelta(days=30)


def announcement(app: str, deployment: Deployment) -> str:
    """web: deployment `dep_1` (`a1b2c3d` “feat: add payment flow”) started outside Slack."""
    return (
        f":satellite_antenna: *{app}*: deployment `{escape(deployment.id)}` "
        f"({commit_words(deployment)}) started outside Slack"
    )


def new_ones(page: Sequence[Deployment], seen: Collection[str], *, afresh: bool) -> list[str]:
    """The ids on a first page (newest first) that were started since the last look, oldest
    first: those above the newest one seen before; afresh, or when none on the page was seen
    (more new ones than a page, or all forgotten), only those in flight."""
    anchor = next((i for i, d in enumerate(page) if d.id in seen), None)
    if afresh or anchor is None:
        found = [d for d in page if d.id not in seen and not d.status.finished]
    else:
        found = [d for d in page[:anchor] if d.id not in seen]
    return [d.id for d in reversed(found)]


class Watching:
    def __init__(
        self,
        config: Config,
        providers: Mapping[str, Provider],
        watched: Watched,
        store: Store,
        thread: Thread,
        *,
        clock: Clock,
        concurrency: int = 50,
    ) -> None:
        self._apps = {
            name: app for name, app in config.apps.items() if app.announce and name in providers
        }
        self._providers = providers
        self._watched = watched
        self._store = store
        self._thread = thread
        self._now = clock
        self.interval = config.settings.watch_interval
        self._gap = timedelta(seconds=GAP_INTERVALS * self.interval)
        self._slots = asyncio.Semaphore(concurrency)

    @property
    def apps(self) -> list[str]:
        return sorted(self._apps)

    async def begin(self) -> None:
        """At start: the store learns which apps are watched now, and where."""
        channels = {name: str(app.announce) for name, app in self._apps.items()}
        await self._watched.sync(channels)

    async def look_once(self) -> int:
        """Look at every watched app whose turn came (across replicas); return how many."""
        # Half an interval: two replicas ticking out of step still look once an interval.
        looks = await self._watched.due(self._apps, timedelta(seconds=self.interval / 2))
        await asyncio.gather(*(self._guarded(look) for look in looks))
        return len(looks)

    async def prune(self) -> None:
        await self._watched.prune(before=self._now() - KEEP_SEEN)

    async def _guarded(self, look: Look) -> None:
        async with self._slots:
            try:
                await self._look(self._apps[look.app], look)
            except ProviderError as exc:
                log.warning("watching %s: %s", look.app, exc)
            except Exception:
                log.exception("watching %s failed", look.app)

    async def _look(self, app: AppConfig, look: Look) -> None:
        page = await self._providers[app.name].newest()
        now = self._now()
        # Read before what was seen: a start of ours that ended meanwhile wrote its deployment
        # down as seen in the transaction that ended it.
        if await self._watched.starting_since(app.name, now - START_LASTS):
            return  # one of ours may be on the page, not written down yet: next look
        seen = await self._watched.seen_of(app.name, [d.id for d in page])
        unseen = [d.id for d in page if d.id not in seen]
        if not unseen:
            return
        afresh = look.previous is None or now - look.previous > self._gap
        new = new_ones(page, seen, afresh=afresh)
        ours = await self._store.rows_for(app.name, new) if new else {}
        await self._watched.see(app.name, [d for d in unseen if d not in new or d in ours])
        by_id = {d.id: d for d in page}
        for deployment_id in new:
            if deployment_id not in ours and await self._watched.claim(app.name, deployment_id):
                await self._announce(app, look.channel, by_id[deployment_id])

    async def _announce(self, app: AppConfig, channel: str, deployment: Deployment) -> None:
        text = announcement(app.name, deployment)
        card = Card(
            app=app.name,
            provider=app.provider,
            requester=OUTSIDE,
            ref=deployment.ref,
            status=deployment.status,
            deployment_id=deployment.id,
            note=OUTSIDE_NOTE,
        )
        root_ts = await self._thread.open(channel, card)
        await self._thread.follow(
            Kind.DEPLOY,
            app,
            deployment,
            channel=channel,
            root_ts=root_ts,
            user=OUTSIDE,
            first=(text,),
        )
        log.info("announced %s %s, started outside Slack, in %s", app.name, deployment.id, channel)
