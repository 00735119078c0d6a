"""The Home tab, pure: each app a person can see, from what the Home use-case gathered."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ConfirmObject,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot import home_blocks
from bot.blocks import age, escape, state_words
from bot.home_blocks import HistoryRow
from bot.models import AppLock, Deployment, Tracked
from bot.stats import Stats

HOME_DEPLOY = "deploybot_home_deploy"
HOME_ROLLBACK = "deploybot_home_rollback"
HOME_UNLOCK = "deploybot_home_unlock"
HOME_ACTIONS = (HOME_DEPLOY, HOME_ROLLBACK, HOME_UNLOCK)
MAX_BLOCKS = 100  # a Home tab view holds at most 100 blocks
RECENT = 5


@dataclass(frozen=True)
class Linked:
    """A deployment the bot follows, with a link to its thread (None: Slack gave none)."""

    row: Tracked
    link: str | None


@dataclass(frozen=True)
class AppHome:
    """What the Home tab shows of one app, for one person."""

    name: str
    provider: str
    live: Deployment | None = None
    live_by: str | None = None
    in_flight: Sequence[Linked] = ()
    awaiting_you: Sequence[Linked] = ()
    lock: AppLock | None = None
    freezes: ContextBlock | None = None
    recent: Sequence[HistoryRow] = ()
    figures: Stats | None = None
    unreadable: str | None = None  # the provider did not answer: why
    deploy_ref: str | None = None  # the deploy button's label; None with `deploy_where` unset
    deploy_where: str | None = None  # the channel a deploy from here is followed in
    may_roll_back: bool = False
    may_unlock: bool = False


def view(apps: Sequence[AppHome], *, now: datetime, notice: str | None = None) -> View:
    found: list[Block] = [HeaderBlock(text="Deployments")]
    if notice:
        found.append(SectionBlock(text=notice))
    if not apps:
        found.append(SectionBlock(text="There are no apps you may deploy or approve."))
    for app in apps:
        found += [DividerBlock(), *_app(app, now=now)]
    return View(type="home", blocks=found[:MAX_BLOCKS])


def _app(app: AppHome, *, now: datetime) -> list[Block]:
    found: list[Block] = [SectionBlock(text=f"*{app.name}* ({app.provider})\n{_live(app, now)}")]
    if app.freezes is not None:
        found.append(app.freezes)
    if app.lock is not None:
        lock = app.lock
        found.append(SectionBlock(text=f":lock: Locked by <@{lock.locked_by}>: {lock.reason}"))
    lines = [_linked(":eyes: Waits for your approval:", item, now) for item in app.awaiting_you]
    lines += [_linked(item.row.status.emoji, item, now) for item in app.in_flight]
    if lines:
        found.append(SectionBlock(text="\n".join(lines)))
    if app.recent:
        found += home_blocks.history(app.name, app.recent, now=now)
    if app.figures is not None and app.figures.requested:
        found += home_blocks.stats(app.name, app.figures)
    buttons = _buttons(app)
    if buttons:
        found.append(ActionsBlock(block_id=f"home:{app.name}", elements=buttons))
    return found


def _live(app: AppHome, now: datetime) -> str:
    if app.unreadable:
        return f":warning: {app.provider.capitalize()} did not answer: {escape(app.unreadable)}"
    live = app.live
    if live is None:
        return "Nothing is live."
    parts = [f"{live.status.emoji} Live: `{escape(live.id)}`"]
    if live.ref:
        parts.append(f"`{escape(live.ref)}`")
    parts.append(f"by <@{app.live_by}>" if app.live_by else "outside deploybot")
    if live.created_at:
        parts.append(age(live.created_at, now=now))
    if live.url:
        parts.append(f"<{live.url}>")
    return " · ".join(parts)


def _linked(head: str, item: Linked, now: datetime) -> str:
    row = item.row
    what = f"`{escape(row.deployment_id)}`" if row.deployment_id else "a deploy"
    ref = f" of `{escape(row.ref)}`" if row.ref else ""
    thread = f"<{item.link}|thread>" if item.link else f"thread in <#{row.channel}>"
    return (
        f"{head} {row.kind.value} {what}{ref} ({state_words(row.status, awaiting=row.pending)}), "
        f"by <@{row.requester}>, "
        f"{age(row.created_at, now=now)} · {thread}"
    )


def _buttons(app: AppHome) -> list[ButtonElement]:
    buttons = []
    if app.deploy_where is not None:
        label = f"Deploy {app.deploy_ref}" if app.deploy_ref else "Deploy"
        buttons.append(
            ButtonElement(
                text=label[:75],
                action_id=HOME_DEPLOY,
                value=app.name,
                confirm=ConfirmObject(
                    title=f"Deploy {app.name}?"[:100],
                    text=f"It is followed in a thread in <#{app.deploy_where}>.",
                    confirm="Deploy",
                    deny="Cancel",
                ),
            )
        )
    if app.may_roll_back and app.live is not None:
        # Its confirmation (and the form asking why) is the one `/deploy rollback` shows.
        buttons.append(ButtonElement(text="Roll back…", action_id=HOME_ROLLBACK, value=app.name))
    if app.may_unlock and app.lock is not None:
        buttons.append(ButtonElement(text="Unlock", action_id=HOME_UNLOCK, value=app.name))
    return buttons
