"""Reading only: an app's recent deployments, lock and actions; the apps of a channel."""

from __future__ import annotations

from collections.abc import Mapping

from bot import blocks
from bot.blocks import Message
from bot.config import AppConfig, Config
from bot.models import Clock
from bot.policy import locked_by
from bot.providers.base import Provider
from bot.store import Store
from bot.usecases.common import Actor

STATUS_ROWS = 10


class Reporting:
    def __init__(
        self, config: Config, providers: Mapping[str, Provider], store: Store, clock: Clock
    ) -> None:
        self._config = config
        self._providers = providers
        self._store = store
        self._now = clock

    async def status(self, app: AppConfig) -> Message:
        history = await self._providers[app.name].history(limit=STATUS_ROWS)
        deployments = history[:STATUS_ROWS]
        rows = await self._store.rows_for(app.name, [d.id for d in deployments])
        lock = await self._store.lock_of(app.name)
        now = self._now()
        audit = [
            f"{blocks.age(a.at or now, now=now)}: <@{a.user}> {a.action}"
            f"{f' `{a.deployment_id}`' if a.deployment_id else ''}: {a.outcome}"
            for a in await self._store.recent(app.name)
        ]
        return blocks.history(
            app.name,
            deployments,
            {dep: row.requester for dep, row in rows.items()},
            now=now,
            lock="L" + locked_by(lock)[1:] if lock else None,  # "Locked by @dev: reason"
            audit=audit,
        )

    async def apps(self, actor: Actor) -> Message:
        lines = []
        for app in sorted(self._config.apps.values(), key=lambda a: a.name):
            if app.channels and actor.channel not in app.channels:
                continue
            rules = (
                ["approval by " + ", ".join(f"<@{u}>" for u in app.approvers)]
                if app.approval
                else ["no approval"]
            )
            if app.deployers:
                also = " (and its approvers)" if app.approvers else ""
                rules.append("deployers " + ", ".join(f"<@{u}>" for u in app.deployers) + also)
            lock = await self._store.lock_of(app.name)
            if lock:
                rules.append(f":lock: {locked_by(lock)}")
            lines.append(f"• *{app.name}* ({app.provider}): {'; '.join(rules)}")
        text = "*Apps you can deploy here*\n" + (
            "\n".join(lines) or "None: this channel has no apps."
        )
        return Message("Apps", tuple(blocks.say(text)))
