"""What every use-case does to a deployment's thread: open its root, say, update, and settle a
status change with its messages in one transaction."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence

from bot import blocks
from bot.blocks import Card, Message
from bot.config import AppConfig
from bot.metrics import DEPLOYMENTS
from bot.models import Approval, Deployment, Kind, Status, Tracked
from bot.outbox import Also, Direct, Edit, Outbox, Outgoing, Reply
from bot.providers.base import Provider, ProviderError
from bot.providers.stormkit_shapes import publish_outcome
from bot.redact import Redactor
from bot.store import Store

log = logging.getLogger(__name__)

# The root's header, as it was first posted: a publish or restart thread stays one on every update.
_TITLES = {Kind.ROLLBACK: "Rollback", Kind.PUBLISH: "Publish", Kind.RESTART: "Restart"}


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
        self._failure_dms = failure_dms
        # Told when something a Home tab shows changed (a status, a new thread, a lock).
        self.on_change: Callable[[], None] = lambda: None
        self._store = store
        self._outbox = outbox
        self._providers = providers
        self._redact = redact

    async def open(self, channel: str, card: Card) -> str:
        """Post a deployment's root message now; its ts names the thread."""
        ts = await self._outbox.post_now(channel, blocks.root(card))
        self.on_change()
        return ts

    async def announce(self, channel: str, text: str) -> None:
        """A message to the whole channel (a lock, an unlock), sent now."""
        await self._outbox.post_now(channel, blocks.note(text))
        self.on_change()

    async def say(self, row: Tracked, text: str) -> None:
        await self._outbox.send([_reply(row, blocks.note(text))])

    async def update(self, row: Tracked, card: Card) -> None:
        await self._outbox.send([_root(row, card)])

    async def in_line(self, rows: Sequence[Tracked]) -> None:
        """Show each deploy waiting in line its place (1: next), with its Cancel button."""
        await self._outbox.send(
            [
                _root(row, self.card(row).but(place=n, row_id=row.id))
                for n, row in enumerate(rows, 1)
            ]
        )

    async def edit_prompt(self, row: Tracked, message: Message) -> None:
        """Change the approval prompt (its buttons go, or come back)."""
        if row.prompt_ts:
            await self._outbox.send([Edit(row.channel, row.prompt_ts, message, row.id)])

    async def prompt(self, row: Tracked, text: str, *, approve_label: str) -> None:
        await self._outbox.send([_prompt(row, text, approve_label)])

    async def started(self, row: Tracked, deployment: Deployment) -> None:
        text = f"Started `{deployment.id}` on {row.provider}: {deployment.status.label}."
        await self._outbox.send(
            [_reply(row, blocks.note(text)), _root(row, self.card(row, deployment))]
        )

    async def could_not_start(
        self, card: Card, channel: str, root_ts: str, exc: ProviderError
    ) -> None:
        log.warning("%s of %s failed: %s", card.title, card.app, exc)
        failed = card.but(status=Status.FAILED, note=str(exc), waiting_for=None)
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
        first: str | None = None,
    ) -> Tracked:
        """Track a deployment a command set moving, and announce where it stands (after
        `first`, the thread's first words, when given): "Started" while it is queued, or else
        its status at once (a rollback is often live already, and a "queued" line would arrive
        after the root says live)."""
        row = await self._store.track(
            kind=kind,
            app=app.name,
            provider=app.provider,
            deployment_id=deployment.id,
            channel=channel,
            root_ts=root_ts,
            requester=user,
            ref=deployment.ref,
            status=Status.QUEUED,
        )
        if first is not None:
            await self.say(row, first)
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
        )

    async def say_once(
        self, row: Tracked, text: str, change: Callable[[Also], Awaitable[bool]]
    ) -> None:
        """Make a change and queue one reply about it, if no one else made it first."""
        if await change(self._outbox.add([_reply(row, blocks.note(text))])):
            self._outbox.kick([row.channel])

    async def settle(self, row: Tracked, deployment: Deployment) -> None:
        """Record a new status and queue its announcement in one compare-and-set: the winner
        alone announces it, and a crash can neither lose nor double the announcement."""
        deployment = publish_outcome(row.provider, row.status, deployment)
        if deployment.status == row.status:
            return
        said = await self._announcement(row, deployment)
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

    async def _announcement(self, row: Tracked, deployment: Deployment) -> list[Outgoing]:
        """What the thread hears about a new status: the replies first, then the root's edit
        (the outbox delivers a channel's messages in the order they were queued, so the reply
        people read never waits behind the edit)."""
        app = row.app
        said: list[Outgoing] = []
        match deployment.status:
            case Status.LIVE:
                built = row.kind in {Kind.DEPLOY, Kind.RESTART}  # a rollback builds nothing
                live = blocks.live_text(app, deployment, built=built)
                said.append(_reply(row, blocks.note(live)))
                if row.pending:
                    alarm = blocks.note(blocks.unapproved_live_text(app))
                    said.append(_reply(row, alarm, broadcast=True))
            case Status.FAILED | Status.STOPPED:
                excerpt, first = await self._excerpt(self._providers[app], deployment)
                said.append(_reply(row, blocks.failed(app, deployment, excerpt)))
                if deployment.status is Status.FAILED and self._failure_dms:
                    said.append(await self._failure_dm(row, deployment, first))
            case Status.READY if row.pending:
                approvers = self._apps[app].approvers
                who = ", ".join(f"<@{a}>" for a in approvers)
                text = f"{blocks.ready_text(app, deployment)}\n{who}: publish it?"
                said.append(_prompt(row, text, "Approve & publish"))
            case Status.READY:
                said.append(_reply(row, blocks.note(blocks.ready_text(app, deployment))))
            case status:
                said.append(_reply(row, blocks.note(blocks.progress_text(app, status))))
        said.append(_root(row, self.card(row, deployment)))
        return said

    async def _excerpt(
        self, provider: Provider, deployment: Deployment
    ) -> tuple[str | None, str | None]:
        """The thread's excerpt of the logs, and the first failing line (or the error's)."""
        try:
            lines = await provider.logs(deployment.id)
        except ProviderError as exc:
            return f"(the logs could not be read: {exc})", _first_line(deployment.error)
        failing = next((line.message for line in lines if line.failed), deployment.error)
        first = _first_line(failing)
        return self._redact(blocks.excerpt(lines)) or None, self._redact(first) if first else None

    async def _failure_dm(self, row: Tracked, deployment: Deployment, first: str | None) -> Direct:
        link = await self._outbox.permalink(row.channel, row.root_ts)
        message = blocks.failure_dm(row.app, deployment.id, first, channel=row.channel, link=link)
        return Direct(row.requester, message, row.id)


def _first_line(text: str | None) -> str | None:
    return next((line.strip() for line in (text or "").splitlines() if line.strip()), None)


def _root(row: Tracked, card: Card) -> Edit:
    return Edit(row.channel, row.root_ts, blocks.root(card), row.id)


def _reply(row: Tracked, message: Message, *, broadcast: bool = False) -> Reply:
    return Reply(row.channel, row.root_ts, message, row.id, broadcast=broadcast)


def _prompt(row: Tracked, text: str, label: str) -> Reply:
    """The approval buttons; the outbox records the message's ts on the row once sent."""
    message = blocks.approval_prompt(text, row.id, approve_label=label)
    return Reply(row.channel, row.root_ts, message, row.id, prompt=True)
