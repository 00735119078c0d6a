"""One deployment or one app, by hand: logs, publish, stop, restart, lock, unlock."""

from __future__ import annotations

from collections.abc import Mapping

from bot.commands import Lock, Operate
from bot.config.apps import AppConfig
from bot.models import Action, AppLock, Approval, Kind, Status
from bot.mrkdwn import escape
from bot.policy import Refused
from bot.policy.wording import lock_terms, locked_by
from bot.providers.base import Provider
from bot.redact import Redactor
from bot.render import blocks
from bot.render.blocks import Card, Message
from bot.render.excerpt import log_block
from bot.render.slack_limits import SECTION_TEXT
from bot.store import Store
from bot.thread import Thread
from bot.usecases.common import Actor, Audit, approve_pending
from bot.usecases.start import Starting


class Operating:
    def __init__(
        self,
        providers: Mapping[str, Provider],
        store: Store,
        thread: Thread,
        audit: Audit,
        redact: Redactor,
        *,
        starting: Starting,
    ) -> None:
        self._providers = providers
        self._store = store
        self._thread = thread
        self._audit = audit
        self._redact = redact
        self._starting = starting

    async def __call__(
        self, request: Operate, app: AppConfig, actor: Actor, *, held: str | None = None
    ) -> Message | None:
        """`held`: why deploys are held now, when an approver forces a publish or restart."""
        provider = self._providers[app.name]
        dep_id = request.deployment_id
        if held is not None and request.force is not None:
            await self._starting.break_glass(
                app, actor, held, request.force, action=Action(request.verb), deployment_id=dep_id
            )
        match request.verb:
            case Action.LOGS:
                lines = await provider.logs(dep_id)
                head = f"*{app.name}* `{escape(dep_id)}`\n"
                room = SECTION_TEXT - len(head)
                body = head + (
                    log_block(lines, redact=self._redact, room=room) or "(no log lines yet)"
                )
                return Message(f"Logs of {dep_id}", tuple(blocks.say(body)))
            case Action.PUBLISH:
                return await self._publish(app, provider, dep_id, actor)
            case Action.STOP:
                await self._under_way(provider, dep_id)
                await provider.stop(dep_id)
                text = f":octagonal_sign: Stop requested by <@{actor.user}>."
                row = await self._store.find(app.name, dep_id)
                if row is not None:
                    await self._thread.say(row, text)
                await self._audit(actor, Action.STOP, app.name, "ok", deployment_id=dep_id)
                return None if row is not None else Message(text)  # said once: in its thread
            case _:
                await self._ended_badly(provider, dep_id)
                await provider.restart(dep_id)
                await self._restarted(app, dep_id, actor)
                return None

    @staticmethod
    async def _under_way(provider: Provider, dep_id: str) -> None:
        """A stop of a deployment that ended is refused, as a restart of one that did not fail
        is: the provider would accept it and do nothing, and its thread would hear of a stop."""
        if "stop" not in provider.supports:
            return  # the adapter refuses it, sending nothing
        status = (await provider.get(dep_id)).status
        if status.finished:
            raise Refused(
                f"`{escape(dep_id)}` has already ended ({blocks.state_words(status)}): "
                "only a deployment still under way can be stopped."
            )

    @staticmethod
    async def _ended_badly(provider: Provider, dep_id: str) -> None:
        """Only a failed or stopped deployment restarts: any other is refused in our words,
        its state said, before the provider is asked."""
        if "restart" not in provider.supports:
            return  # the adapter refuses it, sending nothing
        status = (await provider.get(dep_id)).status
        if status not in {Status.FAILED, Status.STOPPED}:
            words = blocks.state_words(status)
            state = words if words.startswith("was ") else f"is {words}"
            raise Refused(
                f"`{escape(dep_id)}` {state}: only a failed or stopped deployment can be restarted."
            )

    async def _publish(
        self, app: AppConfig, provider: Provider, dep_id: str, actor: Actor
    ) -> Message:
        row = await self._store.find(app.name, dep_id)
        if row is not None and row.approval is Approval.DISCARDED:
            again = " ".join(("/deploy", app.name, *([row.ref] if row.ref else [])))
            by = f"by <@{row.approved_by}>" if row.approved_by else "when its approval expired"
            raise Refused(
                f"`{dep_id}` was discarded {by}, so it will not be published. "
                f"To ship it, deploy it again (`{again}`) and have it approved."
            )
        if row is not None and row.pending:  # the row says so, whether or not prompted yet
            await approve_pending(
                row, actor.user, store=self._store, thread=self._thread, provider=provider
            )
            await self._audit(actor, Action.APPROVE, app.name, "ok", deployment_id=dep_id)
            return Message(f"Published `{dep_id}`: see its thread.")
        await provider.publish(dep_id)
        deployment = (await provider.get(dep_id)).publishing()
        if row is not None:
            await self._thread.say(row, f":rocket: Published by <@{actor.user}>.")
            await self._thread.settle(row, deployment)
        else:
            card = Card(
                app=app.name,
                provider=app.provider,
                requester=actor.user,
                ref=deployment.ref,
                status=Status.QUEUED,
                title="Publish",
            )
            root_ts = await self._thread.open(actor.channel, card)
            await self._thread.follow(
                Kind.PUBLISH,
                app,
                deployment,
                channel=actor.channel,
                root_ts=root_ts,
                user=actor.user,
            )
        await self._audit(actor, Action.PUBLISH, app.name, "ok", deployment_id=dep_id)
        if deployment.status is Status.LIVE:
            return Message(f"Published `{dep_id}`.")
        return Message(f"Publishing `{dep_id}`: its thread says when it is live.")

    async def _restarted(self, app: AppConfig, dep_id: str, actor: Actor) -> None:
        """Said once, in its thread (a new one when the bot did not start it).

        The run that failed keeps its row, and its outcome; the new run is a row of its own in
        the same thread, so that history and the figures count both, each when it happened.
        """
        row = await self._store.find(app.name, dep_id)
        text = f":arrows_counterclockwise: Restarted by <@{actor.user}>."
        if row is not None:
            again = await self._store.rerun(row)
            await self._thread.say(again, text)
        else:
            card = Card(
                app=app.name,
                provider=app.provider,
                requester=actor.user,
                ref=None,
                status=Status.QUEUED,
                deployment_id=dep_id,
                title="Restart",
            )
            root_ts = await self._thread.open(actor.channel, card)
            await self._store.track(
                kind=Kind.RESTART,
                app=app.name,
                provider=app.provider,
                deployment_id=dep_id,
                channel=actor.channel,
                root_ts=root_ts,
                requester=actor.user,
                ref=None,
                status=Status.QUEUED,
            )
        await self._audit(actor, Action.RESTART, app.name, "ok", deployment_id=dep_id)

    async def lock(self, request: Lock, app: AppConfig, actor: Actor) -> None:
        """Said once, in the channel (the person who locked it sees it there too)."""
        lock = AppLock(app.name, escape(request.reason), actor.user, actor.channel)
        await self._store.locks.lock(
            app.name, reason=lock.reason, user=actor.user, channel=actor.channel
        )
        text = f":lock: *{app.name}* is {locked_by(lock)}. {lock_terms(app)}"
        await self._thread.announce(actor.channel, text)
        await self._audit(actor, Action.LOCK, app.name, "ok", detail=lock.reason)

    async def unlock(self, app: AppConfig, lock: AppLock, actor: Actor) -> None:
        await self._store.locks.unlock(app.name)
        was = f" (it was {locked_by(lock)})"
        text = f":unlock: *{app.name}* is unlocked by <@{actor.user}>{was}."
        await self._thread.announce(actor.channel, text)
        await self._audit(actor, Action.UNLOCK, app.name, "ok")
