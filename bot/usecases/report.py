"""Reading only: an app's recent deployments, lock and actions; the apps of a channel."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from bot import dora
from bot.config import Config
from bot.config.apps import AppConfig
from bot.config.freezes import frozen
from bot.dora import Stats, compute
from bot.models import Action, Approval, AuditEntry, Clock, Deployment, Kind, Tracked
from bot.policy import Ask, Policy
from bot.policy.wording import locked_by
from bot.providers.base import Provider
from bot.render import blocks, fitted, history_blocks, home_blocks
from bot.render.blocks import Message
from bot.render.commits import app_keys
from bot.render.home_blocks import freeze_lines
from bot.render.slack_limits import MESSAGE_BLOCKS
from bot.store import Store
from bot.usecases.common import Actor

STATUS_ROWS = 10
HISTORY_ROWS = 15
STATS_FROM_PROVIDER = 100  # the provider's newest deployments read for `stats`


class Reporting:
    def __init__(
        self, config: Config, providers: Mapping[str, Provider], store: Store, clock: Clock
    ) -> None:
        self._config = config
        self._providers = providers
        self._store = store
        self._now = clock
        self._policy = Policy(config.incident_channels)  # pure: the door's rules, asked ahead

    async def status(self, app: AppConfig) -> Message:
        history = await self._providers[app.name].history(limit=STATUS_ROWS)
        deployments = history[:STATUS_ROWS]
        ids = [d.id for d in deployments]
        deploys = await self._store.rows_for(app.name, ids, Kind.DEPLOY)
        rollbacks = await self._store.rows_for(app.name, ids, Kind.ROLLBACK)
        lock = await self._store.locks.get(app.name)
        now = self._now()
        audit = [_action(a, now) for a in await self._store.audit.recent(app.name)]
        labels = {d.id: _label(d, deploys.get(d.id)) for d in deployments}
        notes = {}
        for d in deployments:
            said = [blocks.by_whom(deploys[d.id].requester)] if d.id in deploys else []
            if (back := rollbacks.get(d.id)) is not None:
                when = blocks.age(back.created_at, now=now)
                said.append(f"(<@{back.requester}> rolled back to it {when})")
            if said:
                notes[d.id] = " ".join(said)
        return history_blocks.status_message(
            app.name,
            deployments,
            labels=labels,
            notes=notes,
            now=now,
            lock="L" + locked_by(lock)[1:] if lock else None,  # "Locked by @dev: reason"
            audit=audit,
        )

    async def history(self, app: AppConfig) -> Message:
        """The last deployments, the provider's merged with the bot's: who asked, and what for."""
        theirs = await self._providers[app.name].history(limit=HISTORY_ROWS)
        found = await self._store.of_app(app.name, limit=HISTORY_ROWS * 2)
        redeploys = "rollback_redeploys" in self._providers[app.name].supports
        ours = home_blocks.history_rows(found, rollback_redeploys=redeploys)
        rows = home_blocks.merge_history(ours, theirs, limit=HISTORY_ROWS)
        text = f"History of {app.name}"
        return Message(text, tuple(home_blocks.history_list(app.name, rows, now=self._now())))

    async def stats(self, app: AppConfig, days: int) -> Message:
        figures = await self.figures(app, days)
        text = f"{app.name} over the last {'day' if days == 1 else f'{days} days'}"
        return Message(text, tuple(home_blocks.stats(app.name, figures)))

    async def figures(self, app: AppConfig, days: int) -> Stats:
        """DORA figures of an app over `days` days, from the bot's rows and the provider's list."""
        now = self._now()
        theirs = await self._providers[app.name].history(limit=STATS_FROM_PROVIDER)
        ours = await self._store.of_app(app.name, since=now - timedelta(days=days + 1))
        return compute(dora.records(app.name, ours, theirs), now=now, days=days)

    async def apps(self, actor: Actor) -> Message:
        """The apps this channel deploys: those the person can deploy now first, then the others
        with why not (what a `/deploy` would be answered: one rule, `Policy.refusal`)."""
        now = self._now()
        lines: list[str] = []
        others: list[str] = []
        for app in sorted(self._config.apps.values(), key=lambda a: a.name):
            if app.channels and actor.channel not in app.channels:
                continue
            names = ", ".join(f"<@{u}>" for u in app.approvers)
            rules = [f"approval by {names}" if app.approval else "no approval"]
            if names and not app.approval:  # what its approvers are asked for all the same
                rules.append(f"approvers {names} ({_APPROVERS_DO})")
            if app.deployers:
                also = " (and its approvers)" if app.approvers else ""
                rules.append("deployers " + ", ".join(f"<@{u}>" for u in app.deployers) + also)
            rules += app_keys(app.announce, app.repo)
            lock = await self._store.locks.get(app.name)
            if lock:
                rules.append(f":lock: {locked_by(lock)}")
            entry = [f"• *{app.name}* ({app.provider}): {'; '.join(rules)}"]
            freezes = freeze_lines(self._config.freezes, app.name, now=now)
            entry.extend(f"    {line}" for line in freezes)
            freeze = frozen(self._config.freezes, app.name, now)
            ask = Ask(Action.DEPLOY, app, actor.user, actor.channel, lock, freeze=freeze)
            why = self._policy.refusal(ask)
            if why is None:
                lines.extend(entry)
            else:
                others.extend([*entry, f"    :no_entry: {why}"])
        if not lines and not others:
            none = fitted.sections(["None: this channel has no apps."], most=1)
            return Message("Apps", tuple(none))
        found = ["*Apps you can deploy here*", *(lines or ["None, now: see below why."])]
        if others:
            found += ["*Apps here you cannot deploy now*, and why", *others]
        return Message("Apps", tuple(fitted.sections(found, most=MESSAGE_BLOCKS)))


# What an approver may do that others may not, where deploys need no approval (bot/policy).
_APPROVERS_DO = "rollbacks, publishing, deploying through a lock or freeze"


def _label(deployment: Deployment, row: Tracked | None) -> str:
    return blocks.state_words(
        deployment.status,
        discarded=row is not None and row.approval is Approval.DISCARDED,
        awaiting=row is not None and row.pending,
    )


# What a recent action did, said as done; "ok" would read as "it went well" for a deploy that
# was only started (and failed later).
_DONE: dict[str, str] = {
    Action.DEPLOY: "started a deploy",
    Action.APPROVE: "approved",
    Action.DISCARD: "discarded",
    Action.PUBLISH: "published",
    Action.ROLLBACK: "rolled back to",
    Action.STOP: "stopped",
    Action.RESTART: "restarted",
    Action.LOCK: "locked it",
    Action.UNLOCK: "unlocked it",
    Action.LOGS: "read the logs of",
    Action.CANCEL: "cancelled a deploy waiting in line",
}


# What someone asked for, where the action's name is not the verb ("asked to rollback").
_ASKED: dict[str, str] = {Action.ROLLBACK: "roll back", Action.LOGS: "read the logs of"}


def _action(entry: AuditEntry, now: datetime) -> str:
    when = blocks.age(entry.at or now, now=now)
    dep = f" `{entry.deployment_id}`" if entry.deployment_id else ""
    if entry.outcome == "ok":
        verb = _DONE.get(entry.action, entry.action)  # a StrEnum key matches its value
        return f"{when}: <@{entry.user}> {verb}{dep}"
    if entry.outcome == "waiting":  # a deploy put in line behind the one under way
        return f"{when}: <@{entry.user}> asked for a deploy, put in line ({entry.detail})"
    if entry.outcome == "forced":  # break glass: through a lock or a freeze, with a reason
        verb = _DONE.get(entry.action, entry.action)
        return f"{when}: <@{entry.user}> {verb}{dep} through a lock or freeze (break glass)"
    what = "was refused" if entry.outcome == "refused" else "failed"
    asked = _ASKED.get(entry.action, entry.action)
    return f"{when}: <@{entry.user}> asked to {asked}{dep}: {what}"
