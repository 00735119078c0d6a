"""What every use-case does to a deployment's thread: open its root, say, update, and settle a
status change with its messages in one transaction."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence

from bot.config.apps import AppConfig
from bot.metrics import DEPLOYMENTS
from bot.models import Approval, Deployment, Kind, Status, Tracked
from bot.mrkdwn import escape
from bot.outbox import Edit, Outbox, Outgoing, Reply
from bot.providers.base import Provider, ProviderError, publish_outcome
from bot.redact import Redactor
from bot.render import blocks
from bot.render.blocks import Card, Message
from bot.store import Store
from bot.store.db import Also
from bot.thread.news import News
from bot.thread.outgoing import approval_prompt, reply, root_edit

log = logging.getLogger(__name__)

# The root's header, as it was first posted: a publish or restart thread stays one on every update.
_TITLES = {Kind.ROLLBACK: "Rollback", Kind.PUBLISH: "Publish", Kind.RESTART: "Restart"}
OUTSIDE_NOTE = (
    f"{blocks.OUTSIDE_WORDS.capitalize()} (CI, a push or the provider's dashboard); followed here."
)


class Thread:
    def __init__(
        self,
        apps: Mapping[str, AppConfig],
        store: Store,
        outbox: Outbox,
        providers: Mapping[str, Provider],
        redact: Redactor,
        *,
        failure_dms: bool = True,
    ) -> None:
        self._apps = apps
        # Told when something a Home tab shows changed (a status, a new thread, a lock).
        self.on_change: Callable[[], None] = lambda: None
        self._store = store
        self._outbox = outbox
        self._providers = providers
        self._news = News(apps, outbox, providers, redact, card=self.card, failure_dms=failure_dms)

    async def open(self, channel: str, card: Card) -> str:
        """Post a deployment's root message now; its ts names the thread."""
        ts = await self._outbox.post_now(channel, blocks.root(card))
        self.on_change()
        return ts

    async def announce(self, channel: str, text: str) -> None:
        """A message to the whole channel (a lock, an unlock), sent now."""
        await self._outbox.post_now(channel, blocks.note(text))
        self.on_change()

    async def link(self, channel: str, ts: str) -> str:
        """A thread, named for a person elsewhere: a link where Slack gives one."""
        url = await self._outbox.permalink(channel, ts)
        return f"<{url}|the thread>" if url else f"the thread in <#{channel}>"

    async def say(self, row: Tracked, text: str) -> None:
        await self._outbox.send([reply(row, blocks.note(text))])

    async def update(self, row: Tracked, card: Card) -> None:
        await self._outbox.send([root_edit(row, card)])

    async def in_line(self, rows: Sequence[Tracked]) -> None:
        """Show each deploy waiting in line its place (1: next), with its Cancel button."""
        await self._outbox.send(
            [root_edit(row, self.card(row).but(place=n)) for n, row in enumerate(rows, 1)]
        )

    async def edit_prompt(self, row: Tracked, message: Message) -> None:
        """Change the approval prompt (its buttons go, or come back)."""
        if row.prompt_ts:
            await self._outbox.send([Edit(row.channel, row.prompt_ts, message, row.id)])

    async def prompt(self, row: Tracked, text: str, *, approve_label: str) -> None:
        await self._outbox.send([approval_prompt(row, text, approve_label)])

    async def prompt_on_its_way(self, row: Tracked) -> bool:
        """Its approval prompt is queued or being sent (else it was lost, or never queued)."""
        return await self._outbox.prompt_on_its_way(row.id)

    async def started(self, row: Tracked, deployment: Deployment) -> None:
        text = f"Started `{deployment.id}` on {row.provider}: {deployment.status.label}."
        await self._outbox.send(
            [reply(row, blocks.note(text)), root_edit(row, self.card(row, deployment))]
        )

    async def could_not_start(
        self, card: Card, channel: str, root_ts: str, exc: ProviderError
    ) -> None:
        log.warning("%s of %s failed: %s", card.title, card.app, exc)
        failed = card.but(status=Status.FAILED, note=escape(str(exc)), waiting_for=None)
        text = f"{Status.FAILED.emoji} Could not start: {exc}"
        await self._outbox.send(
            [
                Reply(channel, root_ts, blocks.note(text)),
                Edit(channel, root_ts, blocks.root(failed)),
            ]
        )

    async def follow(
        self,
        kind: Kind,
        app: AppConfig,
        deployment: Deployment,
        *,
        channel: str,
        root_ts: str,
        user: str,
        first: tuple[str, ...] = (),
        ref: str | None = None,
    ) -> Tracked:
        """Track a deployment a command set moving, and announce where it stands (after
        `first`, the thread's first words, in their order): "Started" while it is queued, or
        else its status at once (a rollback is often live already, and a "queued" line would
        arrive after the root says live). `ref`: what its root shows, if not the deployment's."""
        row = await self._store.track(
            kind=kind,
            app=app.name,
            provider=app.provider,
            deployment_id=deployment.id,
            channel=channel,
            root_ts=root_ts,
            requester=user,
            ref=ref or deployment.ref,
            status=Status.QUEUED,
        )
        for text in first:
            await self.say(row, text)
        if deployment.status is Status.QUEUED:
            await self.started(row, deployment)
        else:
            await self.settle(row, deployment)
        return row

    def card(self, row: Tracked, deployment: Deployment | None = None) -> Card:
        status = deployment.status if deployment else row.status
        # Waiting for an approver: a built Stormkit deployment, or a Nometria deploy not yet
        # triggered; while a Stormkit build runs, the root says how the build goes.
        waiting = status is Status.READY or row.deployment_id is None
        pending = row.pending and waiting and status in {Status.QUEUED, Status.READY}
        app = self._apps.get(row.app)
        note = None
        if row.kind is Kind.ROLLBACK:  # the root keeps saying why deploys wait
            note = f"Deploys are locked until `/deploy unlock {row.app}`."
        if row.outside:
            note = OUTSIDE_NOTE
        return Card(
            app=row.app,
            provider=row.provider,
            requester=row.requester,
            ref=row.ref
            or (app.default_branch if app else None)
            or (deployment.ref if deployment else None),
            status=status,
            deployment_id=deployment.id if deployment else row.deployment_id,
            url=deployment.url if deployment and status is Status.LIVE else None,
            title=_TITLES.get(row.kind, "Deploy"),
            waiting_for=app.approvers if pending and app else None,
            approved_by=row.approved_by if row.approval is Approval.APPROVED else None,
            discarded_by=row.approved_by if row.approval is Approval.DISCARDED else None,
            note=note,
            default_ref=row.default_ref,
        )

    async def say_once(
        self, row: Tracked, text: str, change: Callable[[Also], Awaitable[bool]]
    ) -> bool:
        """Make a change and queue one reply about it, if no one else made it first."""
        if await change(self._outbox.add([reply(row, blocks.note(text))])):
            self._outbox.kick([row.channel])
            self.on_change()
            return True
        return False

    async def settle(
        self, row: Tracked, deployment: Deployment, *, said: str | None = None
    ) -> None:
        """Record a new status and queue its announcement in one compare-and-set: the winner
        alone announces it, and a crash can neither lose nor double the announcement.

        `said`: the thread's words for it, when the caller knows better than the status (a
        deploy a rollback stopped is told so once, not told "stopped" again)."""
        adapter = self._providers.get(row.app)  # an app taken out of the apps file has none
        supports = adapter.supports if adapter else frozenset()
        deployment = publish_outcome(supports, row.provider, row.status, deployment)
        if deployment.status == row.status:
            return
        if said is None:
            announced = await self._news.announcement_or_plain(row, deployment)
        else:
            announced = [reply(row, blocks.note(said)), root_edit(row, self.card(row, deployment))]
        await self._advance(row, deployment, announced)

    async def _advance(self, row: Tracked, deployment: Deployment, said: list[Outgoing]) -> None:
        won = await self._store.advance(
            row.id,
            expected=row.status,
            new=deployment.status,
            bypassed=row.pending and deployment.status is Status.LIVE,
            also=self._outbox.add(said),
        )
        if won:
            self._outbox.kick({item.channel for item in said})
            self.on_change()
            if deployment.status.finished:
                DEPLOYMENTS.labels(row.provider, deployment.status.value).inc()

    async def what_changes(
        self, app: AppConfig, candidate: Deployment | None, ref: str | None
    ) -> str:
        """For an approval prompt: what is live now and what would go live (commits.py)."""
        return await self._news.what_changes(app, candidate, ref)
