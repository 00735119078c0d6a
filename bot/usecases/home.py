"""The Home tab: drawn for the person who opens it, and redrawn when something it shows changes,
for those who opened it lately, within Slack's views.publish budget.

The viewers and the budget are in the store (bot/store/viewers.py), so with replicas a change
seen by any of them redraws each recent viewer once, and all of them together keep to the
budget. Each viewer is redrawn at most every `every` seconds, the changes in between coming
along."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from datetime import timedelta
from typing import Any

from slack_sdk.errors import SlackApiError

from bot.config import Config
from bot.config.apps import AppConfig
from bot.models import Clock
from bot.providers.base import Provider
from bot.render import home_view
from bot.render.blocks import Message
from bot.store import Store
from bot.store.viewers import Bucket, HomeViewers
from bot.usecases import home_apps, home_words
from bot.usecases.home_apps import Link, Permalinks, Reading
from bot.usecases.home_words import SOMETHING_ELSE, slack_refused

log = logging.getLogger(__name__)

VIEWERS_FOR = 30 * 60.0  # seconds after opening the tab a person still gets it redrawn
# Slack's views.publish is Tier 4, "100+ per minute" for the app in a workspace. The bucket
# holds a fifth of it for bursts: no 60 s ever see more than burst + per minute.
PUBLISHES_PER_MINUTE = 100.0
DRAWN_AT_ONCE = 4  # views.publish calls in flight at once in a redraw

Publish = Callable[[str, dict[str, Any]], Awaitable[None]]
Whisper = Callable[[str, str, str, list[dict[str, Any]]], Awaitable[None]]
Tell = Callable[[str, str, list[dict[str, Any]]], Awaitable[object]]  # a DM: user, text, blocks


class Showing:
    def __init__(
        self,
        config: Config,
        providers: Mapping[str, Provider],
        store: Store,
        clock: Clock,
        *,
        viewers: HomeViewers,
        publish: Publish,
        link: Link,
        whisper: Whisper,
        tell: Tell | None = None,
        every: float = 10.0,
        viewers_for: float = VIEWERS_FOR,
        per_minute: float = PUBLISHES_PER_MINUTE,
    ) -> None:
        self._config = config
        self._providers = providers
        self._store = store
        self._now = clock
        self._viewers = viewers
        self._publish = publish
        self._links = Permalinks(link)
        self._whisper = whisper
        self._tell = tell
        self._every = timedelta(seconds=every)  # between two redraws of one viewer
        self._viewers_for = timedelta(seconds=viewers_for)
        self._bucket = Bucket("views.publish", burst=per_minute / 5, per_minute=per_minute * 0.8)
        self._drawing: dict[str, asyncio.Lock] = {}
        self._refresh: asyncio.Task[None] | None = None
        self._dirty = False

    async def opened(self, user: str) -> None:
        """They opened the tab: drawn now, without the notice of an earlier click."""
        await self._draw_now(user, None)

    async def show(self, user: str, notice: str | None = None) -> None:
        """Publish the tab now; a notice (what came of a click) stays on it until it is reopened."""
        if notice is None:
            notice = await self._viewers.notice_of(user)
        drawn = await self._draw_now(user, notice)  # they clicked on it: they are looking
        if notice is not None and not drawn and self._tell is not None:
            await self._tell(user, notice, [])  # what came of their click, said all the same

    def changed(self) -> None:
        """Something the tab shows changed: recent viewers are redrawn (see the module)."""
        self._dirty = True  # a redraw under way may have read the state before this change
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

    async def asked_for(self, app: str, channel: str, user: str) -> None:
        """Before a deploy from the tab, a line only they see in the channel that follows it:
        Slack refuses it when they or the bot are not in that channel, and nothing is deployed
        (`failed` then says what to do)."""
        await self.whisper(channel, user, Message(home_words.asked(app)))

    async def failed(self, app: AppConfig, action_id: str, error: Exception) -> str:
        """What the tab says of a click that failed: Slack's refusal in words, with what to do
        (`/invite @deploybot`, join the channel); anything else is logged."""
        channel = await self.channel_for(app)
        words = slack_refused(error, app=app.name, action_id=action_id, channel=channel)
        if words is not None:
            log.warning("a Home tab click (%s of %s): %s", action_id, app.name, error)
            return words
        log.error("a Home tab click (%s of %s) failed", action_id, app.name, exc_info=error)
        return SOMETHING_ELSE.format(app=app.name)

    async def channel_for(self, app: AppConfig) -> str | None:
        """Where a deploy from the Home tab is followed: the app's first channel, or None."""
        return await home_apps.channel_for(self._store, app)

    async def _draw_now(self, user: str, notice: str | None) -> bool:
        # A person is waiting for this one: it goes whatever the budget, and counts in it.
        await self._viewers.spend(self._bucket, 1, force=True)
        generation = await self._viewers.generation()  # read before what it shows
        await self._viewers.opened(user, generation, notice)
        return await self._draw(user, self._reading(generation), notice)

    def _reading(self, generation: int) -> Reading:
        now = self._now()
        return Reading(
            self._config, self._providers, self._store, self._links, now=now, generation=generation
        )

    async def _draw(self, user: str, reading: Reading, notice: str | None) -> bool:
        """Publish their tab; False when Slack refused it (it keeps the last one)."""
        # One drawing at a time per person: a redraw begun before a change never lands after
        # a drawing that shows it.
        async with self._drawing.setdefault(user, asyncio.Lock()):
            apps = await reading.apps_of(user)
            view = home_view.view(apps, now=reading.now, notice=notice).to_dict()
            try:
                await self._publish(user, view)
            except SlackApiError as exc:  # Slack keeps the tab it has: the last one published
                answer = exc.response
                log.warning(
                    "Slack refused the Home tab of %s (%d blocks): %s %s",
                    user,
                    len(view["blocks"]),
                    answer.get("error"),
                    answer.get("response_metadata") or answer.get("errors") or "",
                )
                return False
            return True

    async def _refresh_viewers(self) -> None:
        """Runs on its own, nobody awaiting it: what fails is logged here, or never seen."""
        while self._dirty:
            self._dirty = False
            try:
                await self._viewers.changed()
                await self._catch_up()
            except Exception:
                log.exception(
                    "redrawing the Home tabs after a change (the next change tries again)"
                )
                return

    async def _catch_up(self) -> None:
        """Redraw each recent viewer a change has not reached: each at most every `every`
        seconds, all within the budget, those another replica draws first left to it. What
        the tab shows is read once per change, for everyone drawn after it."""
        reading: Reading | None = None
        while True:
            now, generation = self._now(), await self._viewers.generation()
            behind = await self._viewers.behind(generation, since=now - self._viewers_for)
            if not behind:
                return
            last_due = now - self._every
            due = [user for user, at in behind if at is None or at <= last_due]
            if not due:
                soonest = min(at for _, at in behind if at is not None)
                await asyncio.sleep((soonest - last_due).total_seconds())
                continue
            granted, wait = await self._viewers.spend(self._bucket, len(due))
            if reading is None or reading.generation != generation:
                reading = self._reading(generation)  # after the change: it shows it
            mine = await self._viewers.claim(due[:granted], generation, drawn_before=last_due)
            await self._redraw(mine, reading)
            if wait > 0:
                await asyncio.sleep(wait)  # the budget: the wait is the point

    async def _redraw(self, users: list[str], reading: Reading) -> None:
        at_once = asyncio.Semaphore(DRAWN_AT_ONCE)

        async def one(user: str) -> None:
            async with at_once:
                try:
                    await self._draw(user, reading, await self._viewers.notice_of(user))
                except Exception:
                    log.exception("redrawing the Home tab of %s", user)

        await asyncio.gather(*(one(user) for user in users))
