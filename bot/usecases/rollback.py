"""Rollback: show from -> to with a confirm button; the click locks deploys and goes back."""

from __future__ import annotations

import json
import secrets
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

from bot.config.apps import AppConfig
from bot.models import Action, Clock, Deployment, Kind, Status, Tracked
from bot.mrkdwn import escape
from bot.policy import NotAllowed, Refused
from bot.providers.base import Provider, ProviderError
from bot.render import history_blocks
from bot.render.blocks import OUTSIDE_WORDS, Card, Message, by_whom
from bot.render.commits import compare_link, revision
from bot.store import Store
from bot.thread import Thread
from bot.usecases.common import Actor, Audit

Tell = Callable[[Message], Awaitable[None]]
"""Says something to the person who confirmed, privately, now."""

HISTORY = 50
# What production can go back to: what was live, and on Stormkit any finished build.
_TARGETS = frozenset({Status.LIVE, Status.ROLLED_BACK, Status.READY})


@dataclass(frozen=True)
class Plan:
    """What a confirm button carries: the app, from, to, and a nonce that makes it once."""

    app: str
    current: str
    target: str
    nonce: str

    @classmethod
    def parse(cls, value: str) -> Plan:
        try:
            plan = json.loads(value)
        except json.JSONDecodeError:
            plan = None
        keys = {"app", "from", "to", "nonce"}
        if (
            not isinstance(plan, dict)
            or set(plan) != keys
            or not all(isinstance(plan[k], str) for k in keys)
        ):
            raise NotAllowed("That rollback button is not one I made; nothing was done.")
        return cls(plan["app"], plan["from"], plan["to"], plan["nonce"])

    def value(self) -> str:
        return json.dumps(
            {"app": self.app, "from": self.current, "to": self.target, "nonce": self.nonce}
        )


class RollingBack:
    def __init__(
        self,
        providers: Mapping[str, Provider],
        store: Store,
        thread: Thread,
        audit: Audit,
        clock: Clock,
    ) -> None:
        self._providers = providers
        self._store = store
        self._thread = thread
        self._audit = audit
        self._now = clock

    async def prepare(self, app: AppConfig, wanted: str | None) -> Message:
        """Show from -> to and a confirm button; nothing changes until it is clicked."""
        current, target = await self._from_to(app.name, wanted)
        plan = Plan(app.name, current.id, target.id, secrets.token_hex(8))
        return history_blocks.rollback_confirm(
            app.name,
            current,
            target,
            plan.value(),
            now=self._now(),
            compare=_taken_out(app, current, target),
        )

    async def confirm(
        self, plan: Plan, app: AppConfig, actor: Actor, reason: str, *, tell: Tell
    ) -> None:
        """Roll back for `reason` (typed in the form): it becomes the lock's reason and is said
        in the thread, to the requester of the deployment rolled back.

        Said in the order it happens: the person is told where to follow (`tell`) once the
        provider took it and before anything is said in its thread; a deploy in flight is
        stopped, told so once in its own thread, and said stopped in the rollback's thread
        before its status."""
        provider = self._providers[app.name]
        current, target = await self._from_to(app.name, plan.target)
        if current.id != plan.current:
            raise Refused(
                f"Production changed since: `{current.id}` is live now. "
                f"Run `/deploy rollback {app.name}` again."
            )
        key = f"rollback:{plan.nonce}"
        if not await self._store.claims.take(key):
            raise Refused("This rollback was already carried out; nothing more was done.")
        why = escape(reason)
        # A lock already there stays as it is: its reason is not silently replaced.
        locking = await self._store.locks.get(app.name) is None
        if locking:
            locked = f"a rollback in <#{actor.channel}> ({why})"  # said after "locked by @who:"
            await self._store.locks.lock(
                app.name, reason=locked, user=actor.user, channel=actor.channel
            )
        card = Card(
            app=app.name,
            provider=app.provider,
            requester=actor.user,
            ref=target.ref,
            status=Status.QUEUED,
            title="Rollback",
            note=f"From `{current.id}` to `{target.id}`: {why}\n"
            f"Deploys are locked until `/deploy unlock {app.name}`.",
        )
        root_ts = await self._thread.open(actor.channel, card)
        deploys = [
            r for r in await self._store.line.in_flight_of(app.name) if r.kind is Kind.DEPLOY
        ]
        stopped = {r.id: await self._stop(provider, r, actor, target.id) for r in deploys}
        try:
            deployment = await provider.rollback(target.id)
        except ProviderError as exc:
            if locking:
                await self._store.locks.unlock(app.name)
            if _certainly_not_done(exc):
                await self._store.claims.give_back(key)  # the same button may try again
            await self._thread.could_not_start(card, actor.channel, root_ts, exc)
            raise
        # Told once the provider took it (a refusal leaves the confirmation's button to try
        # again), and before the thread it points to says anything.
        link = await self._thread.link(actor.channel, root_ts)
        await tell(Message(f":rewind: Rolling back {app.name} to `{target.id}`: follow {link}."))
        await self._thread.follow(
            Kind.ROLLBACK,
            app,
            deployment,
            channel=actor.channel,
            root_ts=root_ts,
            user=actor.user,
            first=(
                await self._why(app.name, current, target, actor, why),
                *(_in_flight(app, deploy, stopped[deploy.id]) for deploy in deploys),
            ),
            ref=target.ref,
        )
        await self._audit(
            actor,
            Action.ROLLBACK,
            app.name,
            "ok",
            deployment_id=target.id,
            detail=f"from {current.id}: {reason}",
        )

    async def _why(
        self, app: str, current: Deployment, target: Deployment, actor: Actor, why: str
    ) -> str:
        """Who rolls back what, why, said to whoever deployed what is rolled back."""
        rows = await self._store.rows_for(app, [current.id])
        row = rows.get(current.id)
        if row is None or row.outside:
            whose = f" ({OUTSIDE_WORDS})"
        else:
            whose = f", deployed by <@{row.requester}>,"
        return (
            f":rewind: <@{actor.user}> rolls back *{app}* from `{current.id}`{whose} "
            f"to `{target.id}`.\n*Reason:* {why}"
        )

    async def _stop(self, provider: Provider, row: Tracked, actor: Actor, target: str) -> str:
        """A rollback never waits behind a deploy: stop it where the provider can.

        Returns what became of it, for the rollback's thread; its own thread is told too.
        """
        said = f"<@{row.requester}>, <@{actor.user}> is rolling back *{row.app}* to `{target}`"
        if "stop" not in provider.supports:
            await self._thread.say(
                row,
                f":warning: {said}. {row.provider.capitalize()} cannot stop this deploy: it may "
                "still go live after the rollback, and if it does, production is this deploy "
                "again.",
            )
            return "cannot be stopped: it may still go live after the rollback"
        dep_id = str(row.deployment_id)
        try:
            await provider.stop(dep_id)
            now = await provider.get(dep_id)
        except ProviderError as exc:
            await self._thread.say(
                row, f":warning: {said}, but stopping this deploy failed ({exc}): it may go live."
            )
            return f"could not be stopped ({exc}): it may still go live"
        if now.status is Status.STOPPED:  # its end, said once: the poller finds nothing new
            await self._thread.settle(
                row, now, said=f":octagonal_sign: {said}: this deploy was stopped."
            )
            return "was stopped"
        await self._thread.say(row, f":octagonal_sign: {said}: this deploy was asked to stop.")
        return f"was asked to stop ({provider_name(row)} says it is {now.status.label})"

    async def _from_to(self, app: str, wanted: str | None) -> tuple[Deployment, Deployment]:
        provider = self._providers[app]
        history = await provider.history(limit=HISTORY)
        current = next((d for d in history if d.status is Status.LIVE), None)
        if current is None:
            raise Refused(f"No deployment of `{app}` is live right now, so there is no 'from'.")
        if wanted is not None:
            known = next((d for d in history if d.id == wanted), None)
            target = known or await provider.get(wanted)
            if target.id == current.id:
                raise Refused(f"`{wanted}` is what is live now.")
            if target.status not in _TARGETS:
                raise Refused(f"`{wanted}` is {target.status.label}; it never went live.")
            return current, target
        older = [d for d in history[history.index(current) + 1 :] if d.status in _TARGETS]
        rows = await self._store.rows_for(app, [d.id for d in older])
        was_live = [d for d in older if d.id in rows and rows[d.id].status is Status.LIVE]
        if not (was_live or older):
            raise Refused(f"There is nothing before `{current.id}` to roll back to.")
        return current, (was_live or older)[0]


def _taken_out(app: AppConfig, current: Deployment, target: Deployment) -> str | None:
    """The approval prompt's compare view in reverse: what going back takes out."""
    base, head = revision(target), revision(current)
    if app.repo is None or base is None or head is None or base == head:
        return None
    return compare_link(app.repo, base, head, "What it takes out:")


def provider_name(row: Tracked) -> str:
    return row.provider.capitalize()


def _in_flight(app: AppConfig, deploy: Tracked, became: str) -> str:
    return (
        f":warning: The deploy of *{app.name}* in flight (`{deploy.deployment_id}`, "
        f"{by_whom(deploy.requester)}) {became}."
    )


def _certainly_not_done(exc: ProviderError) -> bool:
    """A refusal (4xx) means nothing happened; a timeout or a 5xx may hide a rollback."""
    return exc.status is not None and 400 <= exc.status < 500
