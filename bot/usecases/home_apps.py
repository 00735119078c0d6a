"""What the Home tab shows of each app: read once per drawing, however many people it is drawn
for, then made into each person's `AppHome` (what waits for them, which buttons they get)."""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot import dora
from bot.config import Config
from bot.config.apps import AppConfig
from bot.config.freezes import frozen
from bot.dora import Stats, compute
from bot.models import Action, AppLock, Deployment, Status, Tracked
from bot.policy import Ask, Policy, may_approve, may_see
from bot.providers.base import Provider, ProviderError
from bot.render import home_blocks, home_view
from bot.render.commits import app_keys
from bot.render.home_blocks import HistoryRow
from bot.render.home_view import AppHome, Linked
from bot.store import Store

FROM_PROVIDER = 100  # the provider's newest deployments: what is live, history, figures
DAYS = 30
LINKS_KEPT = 10_000  # permalinks remembered (they never change); the oldest are forgotten

Link = Callable[[str, str], Awaitable[str | None]]


class Permalinks:
    """chat.getPermalink, asked once per message: a message's permalink never changes."""

    def __init__(self, link: Link, *, kept: int = LINKS_KEPT) -> None:
        self._link = link
        self._kept = kept
        self._known: OrderedDict[tuple[str, str], str] = OrderedDict()

    async def __call__(self, channel: str, ts: str) -> str | None:
        key = (channel, ts)
        if key in self._known:
            self._known.move_to_end(key)
            return self._known[key]
        found = await self._link(channel, ts)
        if found is not None:  # None may be passing (Slack down): asked again next time
            self._known[key] = found
            while len(self._known) > self._kept:
                self._known.popitem(last=False)
        return found


@dataclass(frozen=True)
class AppState:
    """What is true of an app for everyone, at one drawing."""

    app: AppConfig
    live: Deployment | None
    live_by: str | None
    open_rows: Sequence[Linked]
    lock: AppLock | None
    recent: Sequence[HistoryRow]
    figures: Stats
    unreadable: str | None
    channel: str | None  # where a deploy from the tab is followed


class Reading:
    """One drawing's reads: each app read once, shared by everyone drawn with it."""

    def __init__(
        self,
        config: Config,
        providers: Mapping[str, Provider],
        store: Store,
        links: Permalinks,
        *,
        now: datetime,
        generation: int = 0,
    ) -> None:
        self._config = config
        self._providers = providers
        self._store = store
        self._links = links
        self.now = now
        self.generation = generation  # the changes it was read after
        self._read: dict[str, asyncio.Future[AppState]] = {}
        self._policy = Policy()  # pure: the door's rules for a deploy (no incident channels)

    async def apps_of(self, user: str) -> list[AppHome]:
        visible = [
            app
            for app in sorted(self._config.apps.values(), key=lambda a: a.name)
            if may_see(app, user)
        ]
        states = await asyncio.gather(*(self._state(app) for app in visible))
        return [self._for(state, user) for state in states]

    def _state(self, app: AppConfig) -> asyncio.Future[AppState]:
        found = self._read.get(app.name)
        if found is None:
            found = self._read[app.name] = asyncio.ensure_future(self._gather(app))
        return found

    async def _gather(self, app: AppConfig) -> AppState:
        now = self.now
        ours = await self._store.of_app(app.name, since=now - timedelta(days=DAYS + 1))
        unreadable: str | None = None
        try:
            theirs = await self._providers[app.name].history(limit=FROM_PROVIDER)
        except ProviderError as exc:
            theirs, unreadable = [], str(exc)
        live = next((d for d in theirs if d.status is Status.LIVE), None)
        redeploys = "rollback_redeploys" in self._providers[app.name].supports
        by_id = {r.deployment_id: r for r in reversed(ours) if r.deployment_id}
        open_rows = [r for r in ours if _open(r)]
        links = await asyncio.gather(*(self._links(r.channel, r.root_ts) for r in open_rows))
        return AppState(
            app=app,
            live=live,
            live_by=_by(by_id.get(live.id)) if live else None,
            open_rows=[Linked(row, link) for row, link in zip(open_rows, links, strict=True)],
            lock=await self._store.locks.get(app.name),
            recent=home_blocks.merge_history(
                home_blocks.history_rows(ours, rollback_redeploys=redeploys),
                theirs,
                limit=home_view.RECENT,
            ),
            figures=compute(dora.records(app.name, ours, theirs), now=now, days=DAYS),
            unreadable=unreadable,
            channel=await channel_for(self._store, app),
        )

    def _for(self, state: AppState, user: str) -> AppHome:
        app, lock = state.app, state.lock
        refused = self._deploy_refused(state, user)
        return AppHome(
            name=app.name,
            provider=app.provider,
            live=state.live,
            live_by=state.live_by,
            in_flight=[item for item in state.open_rows if not _yours(app, item.row, user)],
            awaiting_you=[item for item in state.open_rows if _yours(app, item.row, user)],
            lock=lock,
            freezes=home_blocks.freeze_context(self._config.freezes, app.name, now=self.now),
            recent=state.recent,
            figures=state.figures,
            unreadable=state.unreadable,
            deploy_ref=self._default_ref(app),
            deploy_where=state.channel if refused is None else None,
            deploy_refused=refused,
            # The door's own rules, asked as the tab's buttons ask: a rollback from no channel
            # (approvers only), an unlock where the lock was taken.
            may_roll_back=self._may(Ask(Action.ROLLBACK, app, user, channel="")),
            may_unlock=lock is not None
            and self._may(Ask(Action.UNLOCK, app, user, channel=lock.channel, lock=lock)),
            keys=app_keys(app.announce, app.repo),
        )

    def _may(self, ask: Ask) -> bool:
        return self._policy.refusal(ask) is None

    def _deploy_refused(self, state: AppState, user: str) -> str | None:
        """Why a Deploy from the tab would be refused to `user` now (None: it would start):
        the door's own rule, asked with the channel the click would deploy in."""
        app = state.app
        if state.channel is None:
            return (
                f"`{app.name}` names no channel and was never deployed, so its thread would "
                f"have nowhere to go: type `/deploy {app.name}` in the channel where it should be."
            )
        freeze = frozen(self._config.freezes, app.name, self.now)
        ask = Ask(Action.DEPLOY, app, user, state.channel, state.lock, freeze=freeze)
        return self._policy.refusal(ask)

    def _default_ref(self, app: AppConfig) -> str | None:
        """What a deploy with no ref deploys, in the button's words."""
        if "commit_refs" in self._providers[app.name].supports:
            return "latest commit"  # of the connected branch
        return app.default_branch


async def channel_for(store: Store, app: AppConfig) -> str | None:
    """Where a deploy from the Home tab is followed: the app's first channel, or where it last
    deployed. The click first says a line only the clicker sees there, which Slack refuses to
    someone outside it (a private channel they are not in): then nothing is deployed."""
    if app.channels:
        return app.channels[0]
    last = await store.of_app(app.name, limit=1)
    return last[0].channel if last else None


def _open(row: Tracked) -> bool:
    """Under way, or waiting for someone's decision."""
    return not row.abandoned and (not row.status.finished or row.pending)


def _yours(app: AppConfig, row: Tracked, user: str) -> bool:
    """Waiting for this person's approval."""
    if not row.pending or not may_approve(app, user):
        return False
    return user != row.requester or app.allow_self_approval


def _by(row: Tracked | None) -> str | None:
    """Who asked for what is live: a person, or None when the bot did not start it."""
    return row.requester if row is not None and not row.outside else None
