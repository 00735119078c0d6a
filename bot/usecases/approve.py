"""Approval buttons: Approve (& publish) and Discard, decided once whoever clicks."""

from __future__ import annotations

from collections.abc import Mapping

from bot.models import Action, Approval, Tracked
from bot.policy import NotAllowed, Refused
from bot.providers.base import Provider
from bot.render import blocks
from bot.store import Store
from bot.thread import Thread
from bot.usecases.common import Actor, Audit, approve_pending, button_row, decided


class Approving:
    def __init__(
        self, providers: Mapping[str, Provider], store: Store, thread: Thread, audit: Audit
    ) -> None:
        self._providers = providers
        self._store = store
        self._thread = thread
        self._audit = audit

    async def clicked(self, value: str, actor: Actor) -> Tracked:
        """The deployment whose approval buttons were clicked, only if the button really is on
        that deployment's thread, in this channel."""
        row = await button_row(self._store, value)
        on_it = row is not None and (
            actor.message_ts in {row.prompt_ts, row.root_ts} or actor.thread_ts == row.root_ts
        )
        if row is None or row.channel != actor.channel or not on_it:
            raise NotAllowed("That button does not belong to a deployment here; nothing was done.")
        if row.prompt_ts is None and actor.message_ts not in {None, row.root_ts}:
            # Clicked before the outbox recorded the prompt's ts: the click tells it.
            await self._store.set_prompt_ts(row.id, str(actor.message_ts))
            row = await self._store.get(row.id) or row
        return row

    async def undecided(self, row: Tracked) -> Tracked:
        """The row, while nobody has decided yet."""
        if row.approval is not Approval.PENDING:
            raise Refused(await decided(self._store, row.id))
        return row

    async def approve(self, row: Tracked, actor: Actor) -> None:
        deployment = await approve_pending(
            row,
            actor.user,
            store=self._store,
            thread=self._thread,
            provider=self._providers[row.app],
        )
        await self._audit(actor, Action.APPROVE, row.app, "ok", deployment_id=deployment.id)

    async def discard(self, row: Tracked, actor: Actor) -> None:
        if not await self._store.decide(row.id, decision=Approval.DISCARDED, user=actor.user):
            raise Refused(await decided(self._store, row.id))
        if row.deployment_id is None:
            await self._store.drop_untriggered(row.id)
        row = await self._store.get(row.id) or row
        # Audited as decided, before it is said: the audit never trails what people read.
        await self._audit(actor, Action.DISCARD, row.app, "ok", deployment_id=row.deployment_id)
        note = f"Discarded by <@{actor.user}>: not published."
        await self._thread.update(row, self._thread.card(row))  # says so from now on
        await self._thread.edit_prompt(row, blocks.note(f":wastebasket: {note}"))
