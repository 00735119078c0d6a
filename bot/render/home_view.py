"""The Home tab, pure: each app a person can see, from what the Home use-case gathered."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot.dora import Stats
from bot.models import AppLock, Deployment, Tracked
from bot.mrkdwn import escape
from bot.render import fitted, home_blocks
from bot.render.blocks import OUTSIDE_WORDS, age, by_whom, state_words
from bot.render.home_blocks import HistoryRow
from bot.render.slack_limits import SECTION_TEXT, VIEW_BLOCKS, fit

HOME_DEPLOY = "deploybot_home_deploy"
HOME_ROLLBACK = "deploybot_home_rollback"
HOME_UNLOCK = "deploybot_home_unlock"
HOME_ACTIONS = (HOME_DEPLOY, HOME_ROLLBACK, HOME_UNLOCK)
MAX_BLOCKS = VIEW_BLOCKS
RECENT = 5
NO_DEPLOY = ":information_source: No Deploy button:"
OPEN_SHOWN = 5  # an app's open rows shown one by one; the rest are counted


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
    deploy_refused: str | None = None  # why there is no Deploy button: what a deploy would get
    may_roll_back: bool = False
    may_unlock: bool = False
    keys: Sequence[str] = ()  # what its `announce` and `repo` say


def view(apps: Sequence[AppHome], *, now: datetime, notice: str | None = None) -> View:
    """The tab, within a view's 100 blocks whatever the number of apps: each app in full while
    they all fit, then the last ones shortened to a line and their buttons, and those that do
    not fit even so counted and named, with where to see them. Apps with something waiting
    for the person come first, then those with something in flight, each set by name."""
    apps = sorted(apps, key=lambda app: (not app.awaiting_you, not app.in_flight, app.name))
    head: list[Block] = [HeaderBlock(text="Deployments")]
    if notice:
        head.append(SectionBlock(text=fit(notice, SECTION_TEXT)))
    if not apps:
        head.append(SectionBlock(text="There are no apps you may deploy or approve."))
    full = [[DividerBlock(), *_app(app, now=now)] for app in apps]
    short = [_short(app, now=now) for app in apps]
    room = MAX_BLOCKS - len(head)
    if sum(map(len, full)) <= room:
        return View(type="home", blocks=[*head, *(b for app in full for b in app)])
    room -= 2  # a divider before the shortened apps, and the line counting those left out
    shown = 0
    while shown < len(apps) and sum(map(len, short[: shown + 1])) <= room:
        shown += 1
    whole = 0  # of those shown, the first ones in full while the rest still fit shortened
    while whole < shown and (
        sum(map(len, full[: whole + 1])) + sum(map(len, short[whole + 1 : shown])) <= room
    ):
        whole += 1
    found = [*head, *(b for app in full[:whole] for b in app), DividerBlock()]
    found += [b for app in short[whole:shown] for b in app]
    left = [app.name for app in apps[shown:]]
    if left:
        found.append(_left_out(left))
    return View(type="home", blocks=found)


def _left_out(names: Sequence[str]) -> SectionBlock:
    """The apps a view had no room for: how many, which, and where to see each."""
    listed = ", ".join(f"*{escape(name)}*" for name in names)
    head = f":heavy_plus_sign: {len(names)} more apps did not fit here (a Home tab holds "
    tail = f"{MAX_BLOCKS} blocks): {listed}"
    how = "\n`/deploy status <app>` shows any of them, `/deploy apps` in a channel lists them."
    return SectionBlock(text=fit(head + tail, SECTION_TEXT - len(how)) + how)


def _app(app: AppHome, *, now: datetime) -> list[Block]:
    found: list[Block] = [SectionBlock(text=fit(_title(app, now), SECTION_TEXT))]
    if app.freezes is not None:
        found.append(app.freezes)
    if app.lock is not None:
        found.append(SectionBlock(text=fit(_locked(app.lock), SECTION_TEXT)))
    lines = _open_lines(app, now)
    if lines:
        found.append(SectionBlock(text=fit("\n".join(lines), SECTION_TEXT)))
    if app.recent:
        found += home_blocks.history_list(app.name, app.recent, now=now)
    if app.figures is not None and app.figures.requested:
        found += home_blocks.stats(app.name, app.figures)
    found += _actions(app)
    return found


def _short(app: AppHome, *, now: datetime) -> list[Block]:
    """An app in a line (what is live, locked, how many open) and its buttons."""
    parts = [_title(app, now)]
    if app.lock is not None:
        parts.append(_locked(app.lock))
    counts = []
    if app.awaiting_you:
        counts.append(f"{len(app.awaiting_you)} waiting for your approval")
    if app.in_flight:
        counts.append(f"{len(app.in_flight)} in flight or in line")
    if counts:
        parts.append(f":hourglass: {', '.join(counts)}: `/deploy history {app.name}`")
    if app.deploy_refused is not None:  # a line of the app's block, not a block of its own
        parts.append(f"{NO_DEPLOY} {app.deploy_refused}")
    buttons = _buttons(app)
    found: list[Block] = [SectionBlock(text=fit("\n".join(parts), SECTION_TEXT))]
    if buttons:
        found.append(ActionsBlock(block_id=f"home:{app.name}", elements=buttons))
    return found


def _title(app: AppHome, now: datetime) -> str:
    head = " · ".join([f"*{escape(app.name)}* ({app.provider})", *app.keys])
    return f"{head}\n{_live(app, now)}"


def _locked(lock: AppLock) -> str:
    return f":lock: Locked by <@{lock.locked_by}>: {lock.reason}"  # escaped when it was taken


def _open_lines(app: AppHome, now: datetime) -> list[str]:
    """What waits for the person's approval, then what is in flight or in line: the first
    few, then how many more and where to see them all."""
    waits = ":eyes: Waits for your approval:"
    lines = [_linked(waits, item, now, state=False) for item in app.awaiting_you]
    lines += [_linked(item.row.status.emoji, item, now) for item in app.in_flight]
    if len(lines) <= OPEN_SHOWN + 1:
        return lines
    more = len(lines) - OPEN_SHOWN
    return [
        *lines[:OPEN_SHOWN],
        f"…and {more} more waiting: `/deploy history {app.name}` lists them.",
    ]


def _actions(app: AppHome) -> list[Block]:
    buttons = _buttons(app)
    found: list[Block] = []
    if app.deploy_refused is not None:
        found.append(fitted.context([f"{NO_DEPLOY} {app.deploy_refused}"]))
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
    parts.append(f"by <@{app.live_by}>" if app.live_by else OUTSIDE_WORDS)
    if live.created_at:
        parts.append(age(live.created_at, now=now))
    if live.url:
        parts.append(f"<{live.url}>")
    return " · ".join(parts)


def _linked(head: str, item: Linked, now: datetime, *, state: bool = True) -> str:
    """`state`: its state in brackets, unless `head` says it already."""
    row = item.row
    what = f"`{escape(row.deployment_id)}`" if row.deployment_id else "a deploy"
    ref = f" of `{escape(row.ref)}`" if row.ref else ""
    thread = f"<{item.link}|thread>" if item.link else f"thread in <#{row.channel}>"
    words = f" ({state_words(row.status, awaiting=row.pending)})" if state else ""
    return (
        f"{head} {row.kind.value} {what}{ref}{words}, "
        f"{by_whom(row.requester)}, "
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
                # plain_text, as Slack documents a dialog's text: no channel link can show.
                confirm=fitted.confirm(
                    f"Deploy {app.name}?",
                    f"Deploy starts {app.name} now; it is followed in a thread in its channel.",
                    yes="Deploy",
                ),
            )
        )
    if app.may_roll_back and app.live is not None:
        # Its confirmation (and the form asking why) is the one `/deploy rollback` shows.
        buttons.append(ButtonElement(text="Roll back…", action_id=HOME_ROLLBACK, value=app.name))
    if app.may_unlock and app.lock is not None:
        buttons.append(ButtonElement(text="Unlock", action_id=HOME_UNLOCK, value=app.name))
    return buttons
