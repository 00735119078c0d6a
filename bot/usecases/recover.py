"""Nothing stays stuck (the poller asks each tick): a start a crash cut short is adopted or ended,
an approval prompt that never reached Slack is posted again, and an approval nobody decided
expires, so an app is never held for good by a row nobody will move."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping, Sequence
from datetime import timedelta

from bot.config import Config
from bot.models import Clock, Deployment, Status, Tracked
from bot.providers.base import Provider, ProviderError
from bot.render import blocks
from bot.render.blocks import card_ref
from bot.store import Store
from bot.thread import Thread

log = logging.getLogger(__name__)

# A provider's clock may differ from ours: its deployments made this long before a start count.
SKEW = timedelta(minutes=2)
RECENT = 20  # how many of the provider's newest deployments a crashed start is looked for in


class Recovering:
    def __init__(
        self,
        config: Config,
        providers: Mapping[str, Provider],
        store: Store,
        thread: Thread,
        clock: Clock,
    ) -> None:
        self._config = config
        self._providers = providers
        self._store = store
        self._thread = thread
        self._now = clock
        self._ttl = timedelta(seconds=config.settings.deploybot_approval_ttl)

    async def __call__(self) -> None:
        """One look (one query) at every kind of stuck row; one kind's failure does not stop
        the others."""
        stuck = await self._store.slots.stuck(self._now() - self._ttl)
        steps = (
            (self.starts, stuck.starts),
            (self.prompts, stuck.unprompted),
            (self.expire, stuck.stale),
        )
        for step, rows in steps:
            if not rows:
                continue
            try:
                await step(rows)
            except Exception:
                log.exception("recovering stuck deploys (%s) failed", step.__name__)

    # -- starts a crash cut short ------------------------------------------------------------

    async def starts(self, rows: list[Tracked]) -> None:
        """Each start whose process stopped renewing it: adopted if the provider has its
        deployment, else ended as not started, its app free; said in its thread either way."""
        for row in rows:
            provider = self._providers.get(row.app)
            if provider is None:
                continue
            try:
                found = await self._triggered_by(row, provider)
            except ProviderError as exc:  # asked again next tick
                log.warning("recovering the start of %s: %s", row.app, exc)
                continue
            if found is not None:
                await self._adopt(row, found, provider)
            else:
                await self._not_started(row, provider)

    async def _triggered_by(self, row: Tracked, provider: Provider) -> Deployment | None:
        """The provider's deployment this start made: of its ref, made since it began (give or
        take the clocks' skew), and followed by no other row; the first such."""
        since = (row.triggered_at or row.updated_at or row.created_at) - SKEW
        recent = [
            d
            for d in await provider.history(limit=RECENT, ref=row.ref)
            if d.created_at is not None and d.created_at >= since
        ]
        followed = await self._store.rows_for(row.app, [d.id for d in recent])
        left = [d for d in recent if d.id not in followed]
        return min(left, key=lambda d: (d.created_at, d.id)) if left else None

    async def _adopt(self, row: Tracked, deployment: Deployment, provider: Provider) -> None:
        row = await self._rooted(row, self._thread.card(row))
        text = (
            f":recycle: The bot stopped while starting this deploy, after {_named(provider)} "
            f"had it: `{deployment.id}` is followed here from now on."
        )
        adopted = await self._thread.say_once(
            row,
            text,
            lambda also: self._store.slots.adopt(row.id, deployment_id=deployment.id, also=also),
        )
        if adopted:
            log.info("adopted %s %s after a start was cut short", row.app, deployment.id)
            row = dataclasses.replace(row, deployment_id=deployment.id)
            await self._thread.update(row, self._thread.card(row, deployment))

    async def _not_started(self, row: Tracked, provider: Provider) -> None:
        note = "Not started: the bot stopped while starting it."
        card = self._thread.card(row).but(status=Status.STOPPED, note=note, waiting_for=None)
        row = await self._rooted(row, card)
        text = (
            f":warning: <@{row.requester}>, the bot stopped while starting this deploy, and "
            f"{_named(provider)} has no deployment from it: nothing was deployed, and "
            f"*{row.app}* is free again. `/deploy {row.app}` to try again."
        )
        ended = await self._thread.say_once(
            row, text, lambda also: self._store.slots.not_started(row.id, also=also)
        )
        if ended:
            log.info("a start of %s was cut short before its trigger: ended", row.app)
            await self._thread.update(row, card)

    async def _rooted(self, row: Tracked, card: blocks.Card) -> Tracked:
        """The row with a thread: a start cut short before its root was posted gets one now."""
        if row.root_ts:
            return row
        root_ts = await self._thread.open(row.channel, card)
        await self._store.slots.set_root(row.id, root_ts)
        return dataclasses.replace(row, root_ts=root_ts)

    # -- approvals -----------------------------------------------------------------------------

    async def prompts(self, rows: list[Tracked]) -> None:
        """A Nometria deploy's prompt that never reached Slack (its start was cut short before
        it was queued, or the outbox gave it up): posted again, so someone can click."""
        for row in rows:
            app = self._config.apps.get(row.app)
            if app is None or await self._thread.prompt_on_its_way(row):
                continue
            if await self._store.slots.reprompt(row.id):  # else another replica does it
                await self._prompt_again(row, app.approvers)

    async def _prompt_again(self, row: Tracked, approvers_of: Sequence[str]) -> None:
        row = await self._rooted(row, self._thread.card(row))
        approvers = ", ".join(f"<@{a}>" for a in approvers_of)
        text = (
            f":raised_hand: <@{row.requester}> asks to deploy *{row.app}* "
            f"({card_ref(self._thread.card(row))}). Nothing is triggered until an "
            f"approver clicks Approve.\n{approvers}: approve it? "
            "(Asked again: the first prompt did not reach Slack.)"
        )
        await self._thread.prompt(row, text, approve_label="Approve")

    async def expire(self, rows: list[Tracked]) -> None:
        """Approvals nobody decided within DEPLOYBOT_APPROVAL_TTL: expired, the prompt's buttons
        replaced, said in the thread; a deploy not triggered lets its app go."""
        for row in rows:
            await self._expire(row)

    async def _expire(self, row: Tracked) -> None:
        waited = _span(int(self._ttl.total_seconds()))
        undone = "triggered" if row.deployment_id is None else "published"
        text = (
            f":hourglass: Nobody approved or discarded this within {waited}: the approval "
            f"expired, and nothing was {undone}. `/deploy {row.app}` to ask again."
        )
        if not await self._thread.say_once(
            row, text, lambda also: self._store.slots.expire(row, also=also)
        ):
            return
        row = await self._store.get(row.id) or row
        note = f"Approval expired after {waited}: nothing was {undone}."
        await self._thread.edit_prompt(row, blocks.note(f":hourglass: {note}"))
        await self._thread.update(row, self._thread.card(row).but(note=note))


def _span(seconds: int) -> str:
    """DEPLOYBOT_APPROVAL_TTL in words: "24 hours", "10 minutes", "90 seconds"."""
    for unit, size in (("hour", 3600), ("minute", 60)):
        if seconds >= size and seconds % size == 0:
            count = seconds // size
            return f"{count} {unit}{'' if count == 1 else 's'}"
    return f"{seconds} second{'' if seconds == 1 else 's'}"


def _named(provider: Provider) -> str:
    return provider.name.capitalize()
