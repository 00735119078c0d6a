"""The Home tab: gathered for the person who opens it, published whole, refreshed (throttled)
for those who opened it lately when something it shows changes."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from bot import dora, home_blocks, home_view
from bot.blocks import Message
from bot.config import AppConfig, Config
from bot.home_view import AppHome, Linked
from bot.models import Clock, Status, Tracked
from bot.policy import may_approve, may_deploy
from bot.providers.base import Provider, ProviderError
from bot.stats import compute
from bot.store import Store

log = logging.getLogger(__name__)

FROM_PROVIDER = 100  # the provider's newest deployments: what is live, history, figures
DAYS = 30
VIEWERS_FOR = 24 * 3600.0  # seconds a person who opened the tab gets it refreshed

Publish = Callable[[str, dict[str, Any]], Awaitable[None]]
Link = Callable[[str, str], Awaitable[str | None]]
Whisper = Callable[[str, str, str, list[dict[str, Any]]], Awaitable[None]]


class Showing:
    def __init__(
        self,
        config: Config,
        providers: Mapping[str, Provider],
        store: Store,
        clock: Clock,
        *,
        publish: Publish,
        link: Link,
        whisper: Whisper,
        every: float = 10.0,
    ) -> None:
        self._config = config
        self._providers = providers
        self._store = store
        self._now = clock
        self._publish = publish
        self._link = link
        self._whisper = whisper
        self._every = every  # seconds between two refreshes on a change
        self._viewers: dict[str, float] = {}  # user -> when they last opened it (monotonic)
        self._notices: dict[str, str] = {}  # user -> what came of their last click there
        self._drawing: dict[str, asyncio.Lock] = {}
        self._refresh: asyncio.Task[None] | None = None
        self._dirty = False
        self._last = -every

    async def opened(self, user: str) -> None:
        self._viewers[user] = time.monotonic()
        self._notices.pop(user, None)
        await self.show(user)

    async def show(self, user: str, notice: str | None = None) -> None:
        """Publish the tab; a notice (what came of a click) stays on it until it is reopened."""
        if notice is not None:
            self._notices[user] = notice
        # One drawing at a time per person: a refresh begun before a change never lands after
        # a drawing that shows it.
        async with self._drawing.setdefault(user, asyncio.Lock()):
            now = self._now()
            visible = [
                app
                for app in sorted(self._config.apps.values(), key=lambda a: a.name)
                if may_deploy(app, user) or may_approve(app, user)
            ]
            apps = await asyncio.gather(*(self._app(app, user, now) for app in visible))
            view = home_view.view(apps, now=now, notice=self._notices.get(user))
            await self._publish(user, view.to_dict())

    def changed(self) -> None:
        """Something the tab shows changed: refresh it for recent viewers, at most every
        `every` seconds, changes in between coming along with the next refresh."""
        if not self._viewers:
            return
        self._dirty = True  # a refresh under way may have read the state before this change
        if self._refresh is None or self._refresh.done():
            self._refresh = asyncio.create_task(self._refresh_viewers())

    async def idle(self) -> None:
        """Wait for a refresh under way (tests)."""
        if self._refresh is not None:
            await asyncio.gather(self._refresh, return_exceptions=True)

    async def stop(self) -> None:
        """Shutting down: a refresh still waiting for its turn is not worth waiting for."""
        if self._refresh is not None:
            self._refresh.cancel()
            await asyncio.gather(self._refresh, return_exceptions=True)

    async def whisper(self, channel: str, user: str, message: Message) -> None:
        """A message only `user` sees in `channel`: what a Home tab button hands on there."""
        await self._whisper(channel, user, message.text, message.to_dicts())

    async def channel_for(self, app: AppConfig) -> str | None:
        """Where a deploy from the Home tab is followed: the app's channel, or its last one."""
        if app.channels:
            return app.channels[0]
        last = await self._store.of_app(app.name, limit=1)
        return last[0].channel if last else None

    async def _refresh_viewers(self) -> None:
        while self._dirty:
            wait = self._last + self._every - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)  # throttling: the wait is the point
            self._dirty = False
            self._last = time.monotonic()
            await self._redraw()

    async def _redraw(self) -> None:
        since = self._last - VIEWERS_FOR
        for user, opened in list(self._viewers.items()):
            if opened < since:
                del self._viewers[user]
                continue
            try:
                await self.show(user)
            except Exception:
                log.exception("refreshing the Home tab of %s", user)

    async def _app(self, app: AppConfig, user: str, now: datetime) -> AppHome:
        ours = await self._store.of_app(app.name, since=now - timedelta(days=DAYS + 1))
        unreadable: str | None = None
        try:
            theirs = await self._providers[app.name].history(limit=FROM_PROVIDER)
        except ProviderError as exc:
            theirs, unreadable = [], str(exc)
        live = next((d for d in theirs if d.status is Status.LIVE), None)
        by_id = {r.deployment_id: r for r in reversed(ours) if r.deployment_id}
        open_rows = [r for r in ours if _open(r)]
        lock = await self._store.lock_of(app.name)
        history = home_blocks.merge_history(
            [home_blocks.history_row(r) for r in ours], theirs, limit=home_view.RECENT
        )
        may_deploy_here = may_deploy(app, user)
        return AppHome(
            name=app.name,
            provider=app.provider,
            live=live,
            live_by=by_id[live.id].requester if live and live.id in by_id else None,
            in_flight=[await self._linked(r) for r in open_rows if not _yours(app, r, user)],
            awaiting_you=[await self._linked(r) for r in open_rows if _yours(app, r, user)],
            lock=lock,
            freezes=home_blocks.freeze_context(self._config.freezes, app.name, now=now),
            recent=history,
            figures=compute(dora.records(app.name, ours, theirs), now=now, days=DAYS),
            unreadable=unreadable,
            deploy_ref=self._default_ref(app),
            deploy_where=await self.channel_for(app) if may_deploy_here else None,
            may_roll_back=may_approve(app, user),
            may_unlock=lock is not None and (user == lock.locked_by or may_approve(app, user)),
        )

    def _default_ref(self, app: AppConfig) -> str | None:
        """What a deploy with no ref deploys, in the button's words."""
        if "commit_refs" in self._providers[app.name].supports:
            return "latest commit"  # of the connected branch
        return app.default_branch

    async def _linked(self, row: Tracked) -> Linked:
        return Linked(row, await self._link(row.channel, row.root_ts))


def _open(row: Tracked) -> bool:
    """Under way, or waiting for someone's decision."""
    return not row.abandoned and (not row.status.finished or row.pending)


def _yours(app: AppConfig, row: Tracked, user: str) -> bool:
    """Waiting for this person's approval."""
    if not row.pending or not may_approve(app, user):
        return False
    return user != row.requester or app.allow_self_approval
