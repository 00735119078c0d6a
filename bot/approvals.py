"""Approval buttons: Approve (& publish) and Discard, decided once whoever clicks."""

from __future__ import annotations

import re

from bot import blocks, notices
from bot.config import AppConfig
from bot.context import Actor, Deps, Reply
from bot.flow import Flow
from bot.models import Deployment, Status
from bot.policy import NotAllowed
from bot.providers.base import ProviderError
from bot.store import Tracked

_ROW_ID = re.compile(r"[0-9]{1,11}")  # ASCII only: str.isdigit() also takes "²" and "①"


class Approvals:
    def __init__(self, deps: Deps, flow: Flow) -> None:
        self.d = deps
        self.flow = flow

    async def clicked_row(self, value: str, actor: Actor) -> Tracked:
        """The deployment a button names, if the button really is on that deployment's thread."""
        row = await self.d.store.get(int(value)) if _ROW_ID.fullmatch(value) else None
        on_it = row is not None and (
            actor.message_ts in {row.prompt_ts, row.root_ts} or actor.thread_ts == row.root_ts
        )
        if row is None or row.channel != actor.channel or not on_it:
            raise NotAllowed("That button does not belong to a deployment here; nothing was done.")
        return row

    async def _undecided(self, value: str, actor: Actor) -> Tracked:
        """The deployment whose approval buttons were clicked, while nobody has decided yet."""
        row = await self.clicked_row(value, actor)
        if row.prompt_ts is None and actor.message_ts not in {None, row.root_ts}:
            row.prompt_ts = actor.message_ts  # clicked before the outbox recorded the prompt's ts
        if row.approval != "pending":
            raise NotAllowed(await self._decided(row.id))
        return row

    async def approve(self, value: str, actor: Actor) -> Reply | None:
        row = await self._undecided(value, actor)
        app = self.d.app(row.app)
        self.d.policy.approve(app, actor.user, row.requester)
        if row.deployment_id is not None and row.state is not Status.READY:
            raise NotAllowed(
                f"`{row.deployment_id}` is {row.status}, not a build ready to publish."
            )
        if not await self.d.store.decide(row.id, decision="approved", user=actor.user):
            raise NotAllowed(await self._decided(row.id))
        row.approval, row.approved_by = "approved", actor.user
        await self._close_prompt(row, f":white_check_mark: Approved by <@{actor.user}>.")
        try:
            deployment = await self._carry_out(row, app)
        except ProviderError as exc:
            await self.d.store.reopen(row.id, decision="approved")
            await self._reopen_prompt(row, exc)
            await self.flow.reply(row, f":warning: <@{actor.user}> approved, but it failed: {exc}")
            raise
        await self.d.audit(actor, "approve", row.app, "ok", deployment_id=deployment.id)
        return None

    async def _carry_out(self, row: Tracked, app: AppConfig) -> Deployment:
        provider = self.d.providers[app.name]
        if row.deployment_id is None:  # Nometria: the approval gates the trigger itself
            deployment = await provider.trigger(ref=row.ref, env_vars=row.env, publish=True)
            await self.d.store.update(
                row.id, deployment_id=deployment.id, status=deployment.status.value, env={}
            )
            row.deployment_id, row.status = deployment.id, deployment.status.value
            await self.flow.started(row, deployment)
            return deployment
        await provider.publish(row.deployment_id)
        deployment = (await provider.get(row.deployment_id)).publishing()
        await self.flow.settle(row, deployment)
        return deployment

    async def discard(self, value: str, actor: Actor) -> Reply | None:
        row = await self._undecided(value, actor)
        app = self.d.app(row.app)
        self.d.policy.discard(app, actor.user, row.requester)
        if not await self.d.store.decide(row.id, decision="discarded", user=actor.user):
            raise NotAllowed(await self._decided(row.id))
        row.approval, row.approved_by = "discarded", actor.user
        if row.deployment_id is None:
            await self.d.store.update(row.id, status=Status.STOPPED.value, env={})
            row.status = Status.STOPPED.value
        note = f"Discarded by <@{actor.user}>: not published."
        await self.flow.update_root(row, self.flow.card(row).but(note=note))
        await self._close_prompt(row, f":wastebasket: {note}")
        await self.d.audit(actor, "discard", row.app, "ok", deployment_id=row.deployment_id)
        return None

    async def _close_prompt(self, row: Tracked, text: str) -> None:
        """The buttons disappear before anything is done; the prompt says who decided."""
        if row.prompt_ts:
            await self.d.outbox.send(
                [
                    notices.edit(
                        row.channel, row.prompt_ts, text, blocks.say(text), tracked_id=row.id
                    )
                ]
            )

    async def _reopen_prompt(self, row: Tracked, error: ProviderError) -> None:
        """The action failed: the buttons come back so someone can try again."""
        if row.prompt_ts:
            text = f":raised_hand: Still waiting for approval: the last try failed ({error})."
            label = "Approve" if row.deployment_id is None else "Approve & publish"
            prompt = blocks.approval_prompt(text, row.id, approve_label=label)
            await self.d.outbox.send(
                [notices.edit(row.channel, row.prompt_ts, text, prompt, tracked_id=row.id)]
            )

    async def _decided(self, row_id: int) -> str:
        row = await self.d.store.get(row_id)
        if row is None or row.approval == "pending":
            return "That was just decided by someone else."
        return f"Already {row.approval} by <@{row.approved_by}>; nothing more was done."
