"""What a deployment's thread hears about a new status: its replies (a failure's log excerpt and
DM, a built deployment's approval prompt), then the root's edit; plain words if a builder fails."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping

from bot.config.apps import AppConfig
from bot.models import Deployment, Kind, Status, Tracked
from bot.mrkdwn import escape
from bot.outbox import Direct, Outbox, Outgoing
from bot.providers.base import Provider, ProviderError
from bot.redact import Redactor
from bot.render import blocks
from bot.render.blocks import Card, Message
from bot.render.commits import approval_lines
from bot.render.excerpt import log_block
from bot.thread.outgoing import approval_prompt, reply, root_edit, root_text_edit

log = logging.getLogger(__name__)

LIVE_AMONG = 20  # the newest deployments looked through for the live one (a prompt's "live now")


class News:
    """A Thread's part that words a new status; the Thread records it and queues what this says."""

    def __init__(
        self,
        apps: Mapping[str, AppConfig],
        outbox: Outbox,
        providers: Mapping[str, Provider],
        redact: Redactor,
        *,
        card: Callable[[Tracked, Deployment | None], Card],
        failure_dms: bool,
    ) -> None:
        self._apps = apps
        self._outbox = outbox
        self._providers = providers
        self._redact = redact
        self._card = card  # the root as the thread shows it (Thread.card)
        self._failure_dms = failure_dms

    async def announcement_or_plain(self, row: Tracked, deployment: Deployment) -> list[Outgoing]:
        """The announcement; if it cannot be built (a bug in a builder), plain words that say
        the new status all the same, and its DM: the change is never held up by its message."""
        try:
            return await self._announcement(row, deployment)
        except Exception:
            log.exception("the announcement of %s %s is plain text", row.app, deployment.id)
        status = deployment.status
        text = f"{status.emoji} {row.app} {status.label} (`{escape(deployment.id)}`)."
        said: list[Outgoing] = [reply(row, Message(text)), root_text_edit(row, text)]
        if status is Status.FAILED and self._failure_dms:
            dm = f"{text} See its thread in <#{row.channel}>."
            said.append(Direct(row.requester, Message(f"Your deployment failed: {dm}"), row.id))
        return said

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
                said.append(reply(row, blocks.note(live)))
                if row.pending:
                    alarm = blocks.note(blocks.unapproved_live_text(app))
                    said.append(reply(row, alarm, broadcast=True))
            case Status.FAILED:
                excerpt, first = await self._excerpt(self._providers[app], deployment)
                said.append(reply(row, blocks.failed(app, deployment, excerpt)))
                if self._failure_dms and not row.outside:
                    said.append(await self._failure_dm(row, deployment, first))
            case Status.STOPPED:  # someone stopped it: no failure to read in its logs
                said.append(reply(row, blocks.failed(app, deployment, None)))
            case Status.READY if row.pending:
                approvers = self._apps[app].approvers
                who = ", ".join(f"<@{a}>" for a in approvers)
                changes = await self.what_changes(self._apps[app], deployment, deployment.ref)
                text = f"{blocks.ready_text(app, deployment)}\n{changes}\n{who}: publish it?"
                said.append(approval_prompt(row, text, "Approve & publish"))
            case Status.READY:
                said.append(reply(row, blocks.note(blocks.ready_text(app, deployment))))
            case status:
                said.append(reply(row, blocks.note(blocks.progress_text(app, status))))
        said.append(root_edit(row, self._card(row, deployment)))
        return said

    async def what_changes(
        self, app: AppConfig, candidate: Deployment | None, ref: str | None
    ) -> str:
        """For an approval prompt: what is live now and what would go live (commits.py)."""
        provider, found = self._providers.get(app.name), []
        try:
            found = await provider.history(limit=LIVE_AMONG) if provider else []
        except ProviderError as exc:
            log.warning("what is live on %s is not known: %s", app.name, exc)
        live = next((d for d in found if d.status is Status.LIVE), None)
        return approval_lines(live, candidate, ref=ref, repo=app.repo)

    async def _excerpt(
        self, provider: Provider, deployment: Deployment
    ) -> tuple[str | None, str | None]:
        """The thread's excerpt of the logs, and the first failing line (or the error's)."""
        try:
            lines = await provider.logs(deployment.id)
        except ProviderError as exc:
            unread = f"(the logs could not be read: {escape(str(exc))})"
            return unread, _first_line(deployment.error)
        failing = next((line.message for line in lines if line.failed), deployment.error)
        first = _first_line(failing)
        return log_block(lines, redact=self._redact), self._redact(first) if first else None

    async def _failure_dm(self, row: Tracked, deployment: Deployment, first: str | None) -> Direct:
        link = await self._outbox.permalink(row.channel, row.root_ts)
        message = blocks.failure_dm(row.app, deployment.id, first, channel=row.channel, link=link)
        return Direct(row.requester, message, row.id)


def _first_line(text: str | None) -> str | None:
    return next((line.strip() for line in (text or "").splitlines() if line.strip()), None)
