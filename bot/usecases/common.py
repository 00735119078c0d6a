"""What the use-cases share: who acts, the audit, and carrying out an approval (never of a build
older than one that is live or on its way)."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from dataclasses import dataclass, field

from bot.commands.usage import ascii_int
from bot.models import Action, Approval, AuditEntry, Deployment, Kind, Status, Tracked
from bot.policy import Refused
from bot.providers.base import Provider, ProviderError, Rejected, maybe_sent
from bot.redact import Redactor
from bot.render import blocks
from bot.render.blocks import Message
from bot.sealed import Unreadable
from bot.store import Store
from bot.thread import Thread


@dataclass(frozen=True)
class Actor:
    """Who did it, where; for a click, the message (and its thread) whose button it was."""

    user: str
    channel: str
    message_ts: str | None = None
    thread_ts: str | None = None


async def button_row(store: Store, value: str) -> Tracked | None:
    """The deployment a button's value names (its row id, ASCII digits); None for any other
    value, a forged one such as "²" included, which the caller refuses in words."""
    row_id = ascii_int(value)
    return await store.get(row_id) if row_id is not None else None


@dataclass
class Gate:
    """One start at a time per app in this process: seeing the app free and starting a
    deployment of it are one step (the store's rows make it one at a time across restarts)."""

    _locks: defaultdict[str, asyncio.Lock] = field(
        default_factory=lambda: defaultdict(asyncio.Lock)
    )

    def __call__(self, app: str) -> asyncio.Lock:
        return self._locks[app]


class Audit:
    """One line per action taken or refused; secrets are redacted, details clipped."""

    def __init__(self, store: Store, redact: Redactor) -> None:
        self._store = store
        self._redact = redact

    async def __call__(
        self,
        actor: Actor,
        action: Action,
        app: str | None,
        outcome: str,
        *,
        deployment_id: str | None = None,
        detail: str = "",
    ) -> None:
        entry = AuditEntry(
            user=actor.user,
            action=action.value,
            app=app,
            channel=actor.channel,
            outcome=outcome,
            deployment_id=deployment_id,
            detail=self._redact(detail)[:500],
        )
        await self._store.audit.write(entry)

    def masked(self, error: ProviderError) -> ProviderError:
        """The error with its words masked: they are said to the person as they are, and a
        provider may quote what it was sent (an override value)."""
        error.args = (self._redact(str(error)),)
        return error


def overrides(store: Store, row: Tracked) -> dict[str, str]:
    """The overrides a deploy kept while it waited, opened to be sent. Unreadable ones stop the
    trigger as a provider's refusal would: said, and nothing sent without them."""
    try:
        return store.overrides(row)
    except Unreadable as exc:
        raise Rejected(str(exc)) from None  # refused before anything was sent


async def decided(store: Store, row_id: int) -> str:
    """Why a decision cannot be made again."""
    row = await store.get(row_id)
    if row is None or row.approval is Approval.PENDING:
        return "That was just decided by someone else."
    if row.approved_by is None:  # decided by the clock
        return "That approval expired: nobody decided in time. Nothing was done."
    return f"Already {row.approval} by <@{row.approved_by}>; nothing more was done."


async def approve_pending(
    row: Tracked, user: str, *, store: Store, thread: Thread, provider: Provider
) -> Deployment:
    """Decide a pending approval once, then trigger (Nometria) or publish (a ready build).

    The buttons go before anything is done; if the provider fails they come back.
    """
    if row.deployment_id is not None and row.status is not Status.READY:
        raise Refused(f"`{row.deployment_id}` is {row.status}, not a build ready to publish.")
    older = await superseded(row, store=store, provider=provider)
    if older is not None:
        raise Refused(older)
    if not await store.decide(row.id, decision=Approval.APPROVED, user=user):
        raise Refused(await decided(store, row.id))
    text = f":white_check_mark: Approved by <@{user}>."
    await thread.edit_prompt(row, blocks.note(text))
    try:
        if row.deployment_id is not None:  # a publish
            return await _carry_out(row, store=store, thread=thread, provider=provider)
        async with store.slots.starting(row.id):  # a trigger: recovered if a crash cuts it short
            return await _carry_out(row, store=store, thread=thread, provider=provider)
    except ProviderError as exc:
        if row.deployment_id is None and maybe_sent(exc):  # the poller finds out (recover.py)
            await thread.say(row, _unsure(user, exc))
            raise
        await store.reopen(row.id, decision=Approval.APPROVED)
        await thread.edit_prompt(row, _reopened(row, exc))
        await thread.say(row, f":warning: <@{user}> approved, but it failed: {exc}")
        raise


async def superseded(row: Tracked, *, store: Store, provider: Provider) -> str | None:
    """Why approving this build would put an older build live over a newer one, and what to do
    instead; None when it is the newest. (A Nometria approval is of a deploy not built yet.)"""
    dep = row.deployment_id
    if dep is None:
        return None
    newer = [r for r in await store.of_app(row.app, limit=50) if r.id > row.id and _coming(r)]
    if newer:
        return _newer_words(row, newer[0])
    history = await provider.history(limit=20)
    live = next((d for d in history if d.status is Status.LIVE), None)
    build = next((d for d in history if d.id == dep), None) or await provider.get(dep)
    if live is None or live.id == dep or not (live.created_at and build.created_at):
        return None
    if live.created_at <= build.created_at:
        return None
    return (
        f"`{live.id}`, newer than `{dep}`, is live now: approving `{dep}` would put an older "
        f"build over it. Discard this one; to go back to it on purpose, "
        f"`/deploy rollback {row.app} {dep}`."
    )


def _coming(row: Tracked) -> bool:
    """A deploy that will (or may, once approved) go live: in line, under way, or built and
    waiting for its approval."""
    if row.kind is not Kind.DEPLOY or row.abandoned or row.approval is Approval.DISCARDED:
        return False
    return row.waiting or not row.status.finished or (row.pending and row.status is Status.READY)


def _newer_words(row: Tracked, newer: Tracked) -> str:
    if newer.pending and newer.status is Status.READY:
        return (
            f"A newer build of *{row.app}*, `{newer.deployment_id}`, is waiting for approval: "
            f"approve that one instead (`{row.deployment_id}` would go live only to be "
            "replaced), and Discard this one."
        )
    where = "waits in line" if newer.waiting else f"is {newer.status.label}"
    which = f" (`{newer.deployment_id}`)" if newer.deployment_id else ""
    return (
        f"A newer deploy of *{row.app}*{which}, asked by <@{newer.requester}>, {where}: "
        f"approve it once it is built instead of `{row.deployment_id}`, and Discard this one."
    )


async def _carry_out(
    row: Tracked, *, store: Store, thread: Thread, provider: Provider
) -> Deployment:
    if row.deployment_id is None:  # Nometria: the approval gates the trigger itself
        env = overrides(store, row)
        deployment = await provider.trigger(ref=row.ref, env_vars=env, publish=True)
        await store.triggered(row.id, deployment_id=deployment.id, status=deployment.status)
        await thread.started(await _reread(store, row), deployment)
        return deployment
    await provider.publish(row.deployment_id)
    deployment = (await provider.get(row.deployment_id)).publishing()
    await thread.settle(await _reread(store, row), deployment)
    return deployment


async def _reread(store: Store, row: Tracked) -> Tracked:
    return await store.get(row.id) or row


def _unsure(user: str, exc: ProviderError) -> str:
    return (
        f":grey_question: <@{user}> approved, and the trigger got no clear answer ({exc}), so "
        "it may have started. I look for it in the provider's list shortly and say here what I "
        "find; the approval is not asked again."
    )


def _reopened(row: Tracked, error: ProviderError) -> Message:
    """The action failed: the buttons come back so someone can try again."""
    text = f":raised_hand: Still waiting for approval: the last try failed ({error})."
    label = "Approve" if row.deployment_id is None else "Approve & publish"
    return blocks.approval_prompt(text, row.id, approve_label=label)
