"""Everything but a plain deploy: rollback, publish, stop, restart, logs, status, apps, locks."""

from __future__ import annotations

import json
import secrets

from bot import blocks
from bot.approvals import Approvals
from bot.commands import Lock, Operate, Rollback, Unlock, UsageError
from bot.context import Actor, Deps, Reply
from bot.flow import Flow
from bot.models import Deployment, Status
from bot.policy import NotAllowed
from bot.providers.base import Provider, ProviderError
from bot.store import Tracked

HISTORY = 50
STATUS_ROWS = 10
# What production can go back to: what was live, and on Stormkit any finished build.
_TARGETS = frozenset({Status.LIVE, Status.ROLLED_BACK, Status.READY})


class Operations:
    def __init__(self, deps: Deps, flow: Flow, approvals: Approvals) -> None:
        self.d = deps
        self.flow = flow
        self.approvals = approvals

    # -- rollback ----------------------------------------------------------------------------

    async def prepare_rollback(self, request: Rollback, actor: Actor) -> Reply:
        """Show from -> to and a confirm button; nothing changes until it is clicked."""
        app = self.d.app(request.app)
        self.d.policy.rollback(app, actor.user, actor.channel)
        provider = self.d.providers[app.name]
        current, target = await self._from_to(app.name, provider, request.deployment_id)
        value = json.dumps(
            {"app": app.name, "from": current.id, "to": target.id, "nonce": secrets.token_hex(8)}
        )
        confirm = blocks.rollback_confirm(app.name, current, target, value, now=self.d.now())
        return Reply(f"Roll back {app.name} from {current.id} to {target.id}?", confirm)

    async def _from_to(
        self, app: str, provider: Provider, wanted: str | None
    ) -> tuple[Deployment, Deployment]:
        history = await provider.history(limit=HISTORY)
        current = next((d for d in history if d.status is Status.LIVE), None)
        if current is None:
            raise NotAllowed(f"No deployment of `{app}` is live right now, so there is no 'from'.")
        if wanted is not None:
            target = next((d for d in history if d.id == wanted), None) or await provider.get(
                wanted
            )
            if target.id == current.id:
                raise NotAllowed(f"`{wanted}` is what is live now.")
            if target.status not in _TARGETS:
                raise NotAllowed(f"`{wanted}` is {target.status.label}; it never went live.")
            return current, target
        older = [d for d in history[history.index(current) + 1 :] if d.status in _TARGETS]
        rows = await self.d.store.rows_for(app, [d.id for d in older])
        was_live = [d for d in older if d.id in rows and rows[d.id].state is Status.LIVE]
        if not (was_live or older):
            raise NotAllowed(f"There is nothing before `{current.id}` to roll back to.")
        return current, (was_live or older)[0]

    async def rollback(self, value: str, actor: Actor) -> Reply:
        plan = _rollback_plan(value)
        try:
            app = self.d.app(plan["app"])
        except UsageError:
            raise NotAllowed(
                "That rollback button names no app of mine; nothing was done."
            ) from None
        self.d.policy.rollback(app, actor.user, actor.channel)
        provider = self.d.providers[app.name]
        current, target = await self._from_to(app.name, provider, plan["to"])
        if current.id != plan["from"]:
            raise NotAllowed(
                f"Production changed since: `{current.id}` is live now. "
                f"Run `/deploy rollback {app.name}` again."
            )
        key = f"rollback:{plan['nonce']}"
        if not await self.d.store.claim(key):
            raise NotAllowed("This rollback was already carried out; nothing more was done.")
        reason = f"rolled back by <@{actor.user}> in <#{actor.channel}>"
        await self.d.store.lock(app.name, reason=reason, user=actor.user, channel=actor.channel)
        card = blocks.Card(
            app=app.name,
            provider=app.provider,
            requester=actor.user,
            ref=target.ref,
            status=Status.QUEUED,
            title="Rollback",
            note=f"From `{current.id}` to `{target.id}`. "
            f"Deploys are locked until `/deploy unlock {app.name}`.",
        )
        root_ts = await self.flow.post_root(actor.channel, card)
        try:
            deployment = await provider.rollback(target.id)
        except ProviderError as exc:
            await self.d.store.unlock(app.name)
            if _certainly_not_done(exc):
                await self.d.store.unclaim(key)  # the same button may try again
            await self.flow.trigger_failed(card, actor.channel, root_ts, exc)
            raise
        await self._follow(app.name, app.provider, actor, root_ts, deployment, kind="rollback")
        await self.d.audit(
            actor, "rollback", app.name, "ok", deployment_id=target.id, detail=f"from {current.id}"
        )
        return Reply(f":rewind: Rolling back {app.name} to `{target.id}`: follow the thread.", [])

    async def _follow(
        self,
        app: str,
        provider: str,
        actor: Actor,
        root_ts: str,
        deployment: Deployment,
        *,
        kind: str,
    ) -> Tracked:
        """Track a deployment this command set moving, and announce where it stands."""
        row = await self.d.store.track(
            kind=kind,
            app=app,
            provider=provider,
            deployment_id=deployment.id,
            channel=actor.channel,
            root_ts=root_ts,
            requester=actor.user,
            ref=deployment.ref,
            status=Status.QUEUED.value,
        )
        await self.flow.started(row, deployment.model_copy(update={"status": Status.QUEUED}))
        await self.flow.settle(row, deployment)
        return row

    # -- one deployment ----------------------------------------------------------------------

    async def operate(self, request: Operate, actor: Actor) -> Reply | None:
        app = self.d.app(request.app)
        provider = self.d.providers[app.name]
        dep_id = request.deployment_id
        match request.verb:
            case "logs":
                lines = await provider.logs(dep_id)
                text = self.d.redact(blocks.excerpt(lines)) or "(no log lines yet)"
                return Reply(
                    f"Logs of {dep_id}",
                    blocks.say(f"*{app.name}* `{dep_id}`\n{blocks.code_block(text)}"),
                )
            case "publish":
                self.d.policy.publish(app, actor.user)
                return await self._publish(app.name, provider, dep_id, actor)
            case "stop":
                self.d.policy.operate(app, actor.user, "stop")
                await provider.stop(dep_id)
                return await self._noted(
                    app.name,
                    dep_id,
                    f":octagonal_sign: Stop requested by <@{actor.user}>.",
                    actor,
                    "stop",
                )
            case _:
                self.d.policy.deploy(
                    app, actor.user, actor.channel, await self.d.store.lock_of(app.name)
                )
                await provider.restart(dep_id)
                return await self._restarted(app.name, app.provider, dep_id, actor)

    async def _publish(self, app: str, provider: Provider, dep_id: str, actor: Actor) -> Reply:
        row = await self.d.store.find(app, dep_id)
        if row is not None and row.approval == "pending" and row.prompt_ts:
            await self.approvals.approve(str(row.id), Actor(actor.user, row.channel, row.prompt_ts))
            return Reply(f"Published `{dep_id}`: see its thread.")
        await provider.publish(dep_id)
        deployment = (await provider.get(dep_id)).publishing()
        if row is not None:
            await self.flow.settle(row, deployment)
        else:
            card = blocks.Card(
                app=app,
                provider=provider.name,
                requester=actor.user,
                ref=deployment.ref,
                status=Status.QUEUED,
                title="Publish",
            )
            root_ts = await self.flow.post_root(actor.channel, card)
            await self._follow(app, provider.name, actor, root_ts, deployment, kind="publish")
        await self.d.audit(actor, "publish", app, "ok", deployment_id=dep_id)
        if deployment.status is Status.LIVE:
            return Reply(f"Published `{dep_id}`.")
        return Reply(f"Publishing `{dep_id}`: its thread says when it is live.")

    async def _noted(self, app: str, dep_id: str, text: str, actor: Actor, action: str) -> Reply:
        row = await self.d.store.find(app, dep_id)
        if row is not None:
            await self.flow.reply(row, text)
        await self.d.audit(actor, action, app, "ok", deployment_id=dep_id)
        return Reply(text)

    async def _restarted(self, app: str, provider: str, dep_id: str, actor: Actor) -> Reply:
        row = await self.d.store.find(app, dep_id)
        text = f":arrows_counterclockwise: Restarted by <@{actor.user}>."
        if row is not None:
            await self.d.store.update(row.id, status=Status.QUEUED.value)
            await self.flow.reply(row, text)
        else:
            card = blocks.Card(
                app=app,
                provider=provider,
                requester=actor.user,
                ref=None,
                status=Status.QUEUED,
                deployment_id=dep_id,
                title="Restart",
            )
            root_ts = await self.flow.post_root(actor.channel, card)
            await self.d.store.track(
                kind="restart",
                app=app,
                provider=provider,
                deployment_id=dep_id,
                channel=actor.channel,
                root_ts=root_ts,
                requester=actor.user,
                ref=None,
                status=Status.QUEUED.value,
            )
        await self.d.audit(actor, "restart", app, "ok", deployment_id=dep_id)
        return Reply(text)

    # -- reading -----------------------------------------------------------------------------

    async def status(self, app_name: str) -> Reply:
        app = self.d.app(app_name)
        deployments = (await self.d.providers[app.name].history(limit=STATUS_ROWS))[:STATUS_ROWS]
        rows = await self.d.store.rows_for(app.name, [d.id for d in deployments])
        lock = await self.d.store.lock_of(app.name)
        now = self.d.now()
        audit = [
            f"{blocks.age(a.at, now=now)}: <@{a.user}> {a.action}"
            f"{f' `{a.deployment_id}`' if a.deployment_id else ''}: {a.outcome}"
            for a in await self.d.store.recent(app.name)
        ]
        view = blocks.history(
            app.name,
            deployments,
            {dep: row.requester for dep, row in rows.items()},
            now=now,
            lock=f"Locked by <@{lock.locked_by}>: {lock.reason}" if lock else None,
            audit=audit,
        )
        return Reply(f"Status of {app.name}", view)

    async def apps(self, actor: Actor) -> Reply:
        lines = []
        for app in sorted(self.d.config.apps.values(), key=lambda a: a.name):
            if app.channels and actor.channel not in app.channels:
                continue
            rules = (
                ["approval by " + ", ".join(f"<@{u}>" for u in app.approvers)]
                if app.approval
                else ["no approval"]
            )
            if app.deployers:
                rules.append("deployers " + ", ".join(f"<@{u}>" for u in app.deployers))
            lock = await self.d.store.lock_of(app.name)
            if lock:
                rules.append(f":lock: locked: {lock.reason}")
            lines.append(f"• *{app.name}* ({app.provider}): {'; '.join(rules)}")
        text = "*Apps you can deploy here*\n" + (
            "\n".join(lines) or "None: this channel has no apps."
        )
        return Reply("Apps", blocks.say(text))

    # -- locks -------------------------------------------------------------------------------

    async def lock(self, request: Lock, actor: Actor) -> Reply:
        app = self.d.app(request.app)
        self.d.policy.lock(app, actor.user)
        reason = request.reason or f"locked by <@{actor.user}>"
        await self.d.store.lock(app.name, reason=reason, user=actor.user, channel=actor.channel)
        text = f":lock: *{app.name}* is locked by <@{actor.user}>: {reason}. Rollbacks still work."
        await self.d.notifier.post(actor.channel, text, blocks.say(text))
        await self.d.audit(actor, "lock", app.name, "ok", detail=reason)
        return Reply(text)

    async def unlock(self, request: Unlock, actor: Actor) -> Reply:
        app = self.d.app(request.app)
        lock = await self.d.store.lock_of(app.name)
        if lock is None:
            raise NotAllowed(f"`{app.name}` is not locked.")
        self.d.policy.unlock(app, actor.user, lock)
        await self.d.store.unlock(app.name)
        text = f":unlock: *{app.name}* is unlocked by <@{actor.user}> (was: {lock.reason})."
        await self.d.notifier.post(actor.channel, text, blocks.say(text))
        await self.d.audit(actor, "unlock", app.name, "ok")
        return Reply(text)


def _rollback_plan(value: str) -> dict[str, str]:
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
    return plan


def _certainly_not_done(exc: ProviderError) -> bool:
    """A refusal (4xx) means nothing happened; a timeout or a 5xx may hide a rollback."""
    return exc.status is not None and 400 <= exc.status < 500
