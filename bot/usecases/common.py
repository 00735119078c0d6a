"""What the use-cases share: who acts, the audit, and carrying out an approval."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from dataclasses import dataclass, field

from bot import blocks
from bot.blocks import Message
from bot.models import Action, Approval, AuditEntry, Deployment, Status, Tracked
from bot.policy import Refused
from bot.providers.base import Provider, ProviderError
from bot.redact import Redactor
from bot.store import Store
from bot.thread import Thread


@dataclass(frozen=True)
class Actor:
    """Who did it, where; for a click, the message (and its thread) whose button it was."""

    user: str
    channel: str
    message_ts: str | None = None
    thread_ts: str | None = None


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
        await self._store.audit(entry)


async def decided(store: Store, row_id: int) -> str:
    """Why a decision cannot be made again."""
    row = await store.get(row_id)
    if row is None or row.approval is Approval.PENDING:
        return "That was just decided by someone else."
    return f"Already {row.approval} by <@{row.approved_by}>; nothing more was done."


async def approve_pending(
    row: Tracked, user: str, *, store: Store, thread: Thread, provider: Provider
) -> Deployment:
    """Decide a pending approval once, then trigger (Nometria) or publish (a ready build).

    The buttons go before anything is done; if the provider fails they come back.
    """
    if row.deployment_id is not None and row.status is not Status.READY:
        raise Refused(f"`{row.deployment_id}` is {row.status}, not a build ready to publish.")
    if not await store.decide(row.id, decision=Approval.APPROVED, user=user):
        raise Refused(await decided(store, row.id))
    text = f":white_check_mark: Approved by <@{user}>."
    await thread.edit_prompt(row, blocks.note(text))
    try:
        return await _carry_out(row, store=store, thread=thread, provider=provider)
    except ProviderError as exc:
        await store.reopen(row.id, decision=Approval.APPROVED)
        await thread.edit_prompt(row, _reopened(row, exc))
        await thread.say(row, f":warning: <@{user}> approved, but it failed: {exc}")
        raise


async def _carry_out(
    row: Tracked, *, store: Store, thread: Thread, provider: Provider
) -> Deployment:
    if row.deployment_id is None:  # Nometria: the approval gates the trigger itself
        deployment = await provider.trigger(ref=row.ref, env_vars=row.env, publish=True)
        await store.triggered(row.id, deployment_id=deployment.id, status=deployment.status)
        await thread.started(await _reread(store, row), deployment)
        return deployment
    await provider.publish(row.deployment_id)
    deployment = (await provider.get(row.deployment_id)).publishing()
    await thread.settle(await _reread(store, row), deployment)
    return deployment


async def _reread(store: Store, row: Tracked) -> Tracked:
    return await store.get(row.id) or row


def _reopened(row: Tracked, error: ProviderError) -> Message:
    """The action failed: the buttons come back so someone can try again."""
    text = f":raised_hand: Still waiting for approval: the last try failed ({error})."
    label = "Approve" if row.deployment_id is None else "Approve & publish"
    return blocks.approval_prompt(text, row.id, approve_label=label)
