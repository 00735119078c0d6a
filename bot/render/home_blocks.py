"""Pure Block Kit for freezes, `/deploy history` and `/deploy stats` (and the Home tab)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import Block, ContextBlock

from bot.config.freezes import Freeze, Frozen, Window, frozen, upcoming
from bot.dora import Stats, duration, frequency
from bot.models import Approval, Deployment, Kind, Status, Tracked
from bot.mrkdwn import escape
from bot.render import fitted
from bot.render.blocks import OUTSIDE_WORDS, age, state_words
from bot.render.slack_limits import MESSAGE_BLOCKS, fit_user

MAX_BLOCKS = MESSAGE_BLOCKS
_UNKNOWN = datetime.min.replace(tzinfo=UTC)  # sorts a row with no time last


def when(at: datetime, zone: ZoneInfo, *, now: datetime) -> str:
    """Mon 27 Dec 08:00 UTC, on the zone's clock; the year only when it is not this year's."""
    local = at.astimezone(zone)
    year = f" {local.year}" if local.year != now.astimezone(zone).year else ""
    return f"{local:%a} {local.day} {local:%b}{year} {local:%H:%M} {local.tzname()}"


# Freezes ------------------------------------------------------------------------------------


def freeze_lines(freezes: Sequence[Freeze], app: str, *, now: datetime, soon: int = 2) -> list[str]:
    """What `/deploy apps` and the Home tab say of an app's freezes: now, then the next ones."""
    lines = []
    current = frozen(freezes, app, now)
    said: tuple[Window, ...] = ()
    if current is not None:
        until = when(current.until, current.window.freeze.zone, now=now)
        lines.append(f":cold_face: Frozen until {until}: {reasons(current)}")
        said = current.windows  # one that follows on is in that line already
    found = upcoming(freezes, now, app=app, limit=soon + 2 + len(said))
    later = [w for w in found if w.start > now and w not in said]
    lines.extend(_next_freeze(w, now=now) for w in later[:soon])
    return lines


def reasons(current: Frozen) -> str:
    """Why deploys are held, every freeze's reason once (escaped: they are people's words)."""
    return "; ".join(escape(reason) for reason in current.reasons)


def freeze_context(freezes: Sequence[Freeze], app: str, *, now: datetime) -> ContextBlock | None:
    lines = freeze_lines(freezes, app, now=now)
    if not lines:
        return None
    return fitted.context(lines)


def _next_freeze(window: Window, *, now: datetime) -> str:
    zone = window.freeze.zone
    span = f"{when(window.start, zone, now=now)} to {when(window.end, zone, now=now)}"
    return f":calendar: Freeze from {span}: {escape(window.reason)}"


# History ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class HistoryRow:
    """One line of `/deploy history`: a deployment through the bot, at the provider, or both."""

    id: str | None  # None: the bot never got as far as the provider (discarded, refused)
    status: Status
    when: datetime | None
    ref: str | None = None
    who: str | None = None  # Slack user ID; None: started outside the bot
    seconds: int | None = None
    rollback: bool = False
    discarded: bool = False
    awaiting: bool = False  # waits for an approver's decision
    restarted: bool = False  # a failed deployment run again: dated by the restart
    # The provider's entry with this id is this line (False: this line is its own, dated and
    # timed by the bot: a rollback that published an older build, a run before a restart).
    merges: bool = True


def history_row(row: Tracked, *, merges: bool = True, restarted: bool = False) -> HistoryRow:
    """What the bot knows of a deployment it started."""
    seconds = None
    if not merges and row.status.finished and row.updated_at is not None:
        seconds = max(0, int((row.updated_at - row.created_at).total_seconds()))
    return HistoryRow(
        id=row.deployment_id,
        status=row.status,
        when=row.created_at,
        ref=row.ref,
        who=None if row.outside else row.requester,
        seconds=seconds,
        rollback=row.kind is Kind.ROLLBACK,
        discarded=row.approval is Approval.DISCARDED,
        awaiting=row.pending,
        restarted=restarted,
        merges=merges,
    )


def history_rows(found: Sequence[Tracked], *, rollback_redeploys: bool) -> list[HistoryRow]:
    """The bot's rows as history lines, in the order given.

    A rollback is the provider's entry only where a rollback is a new deployment
    (`rollback_redeploys`: Nometria); elsewhere it published an older build again, whose own
    entry keeps that build's age and build time, and the rollback is a line of its own, at the
    time it was asked, taking what it took. A restarted deployment's earlier runs stay lines of
    their own with the outcome they had; its newest run is the provider's entry.
    """
    runs: dict[str, list[int]] = {}
    for row in found:
        if row.deployment_id and row.kind is not Kind.ROLLBACK:
            runs.setdefault(row.deployment_id, []).append(row.id)
    newest = {dep: max(ids) for dep, ids in runs.items()}
    firsts = {dep: min(ids) for dep, ids in runs.items()}
    lines = []
    for row in found:
        if row.kind is Kind.ROLLBACK:
            lines.append(history_row(row, merges=rollback_redeploys))
        elif row.deployment_id is None:
            lines.append(history_row(row))
        else:
            again = row.id != firsts[row.deployment_id]
            lines.append(
                history_row(row, merges=newest[row.deployment_id] == row.id, restarted=again)
            )
    return lines


def merge_history(
    ours: Sequence[HistoryRow], theirs: Iterable[Deployment], *, limit: int = 15
) -> list[HistoryRow]:
    """The provider's list, with who asked and what for from our rows, and our rows it lacks.

    The provider is right about status and times, except for a restart's run (dated when it was
    restarted). Our rows it does not list are kept when they never reached it, or when they are
    newer than its oldest entry (older ones fell off its page); our lines of their own are kept
    as they are.
    """
    by_id = {row.id: row for row in ours if row.id is not None and row.merges}
    rows = [_merged(d, by_id.pop(d.id, None)) for d in theirs]
    oldest = min((row.when for row in rows if row.when is not None), default=None)
    rows += [r for r in by_id.values() if _not_before(r.when, oldest)]
    rows += [r for r in ours if r.id is None or not r.merges]
    rows.sort(key=lambda r: r.when or _UNKNOWN, reverse=True)
    return rows[:limit]


def _not_before(at: datetime | None, oldest: datetime | None) -> bool:
    return at is None or oldest is None or at >= oldest


def _merged(deployment: Deployment, ours: HistoryRow | None) -> HistoryRow:
    seconds = deployment.build_seconds
    first_run = ours is None or not ours.restarted  # created_at is the first run's
    if seconds is None and first_run and deployment.created_at and deployment.finished_at:
        seconds = int((deployment.finished_at - deployment.created_at).total_seconds())
    return HistoryRow(
        id=deployment.id,
        status=deployment.status,
        when=deployment.created_at if first_run and deployment.created_at else _when(ours),
        ref=deployment.ref or (ours.ref if ours else None),
        who=ours.who if ours else None,
        seconds=seconds,
        rollback=ours.rollback if ours else False,
        discarded=ours.discarded if ours else False,
        awaiting=ours.awaiting if ours else False,
        restarted=ours.restarted if ours else False,
    )


def _when(ours: HistoryRow | None) -> datetime | None:
    return ours.when if ours else None


def history_list(app: str, rows: Sequence[HistoryRow], *, now: datetime) -> list[Block]:
    """`/deploy history <app>`: one line each, newest first: id, ref, outcome, who, when, took."""
    if not rows:
        return [fitted.section(f"*{escape(app)}*: no deployments yet.")]
    title = f"*{escape(app)}*: the last {len(rows)} deployments, newest first"
    return list(
        fitted.sections([title, *(_history_line(row, now=now) for row in rows)], most=MAX_BLOCKS)
    )


def _history_line(row: HistoryRow, *, now: datetime) -> str:
    what = f"`{escape(row.id)}`" if row.id else "_not started_"
    if row.rollback:
        what = f"rollback to {what}"
    elif row.restarted:
        what = f"restart of {what}"
    parts = [f"{row.status.emoji} {what}"]
    if row.ref:
        parts.append(f"`{fit_user(row.ref, 60)}`")
    words = state_words(row.status, discarded=row.discarded, awaiting=row.awaiting)
    if row.rollback and not row.merges and row.status is Status.LIVE:
        words = "went live"  # then; what is live now is the older build's own line
    parts.append(words)
    parts.append(f"by <@{row.who}>" if row.who else OUTSIDE_WORDS)
    parts.append(age(row.when, now=now) if row.when else "time unknown")
    if row.seconds is not None:
        parts.append(f"took {duration(row.seconds)}")
    return " · ".join(parts)


# Stats --------------------------------------------------------------------------------------


def stats(app: str, figures: Stats) -> list[Block]:
    """`/deploy stats <app> [days]`: the four DORA figures, or why there are none."""
    period = "day" if figures.days == 1 else f"{figures.days} days"
    if figures.requested == 0:
        return [fitted.section(f"No deployments of *{escape(app)}* in the last {period}.")]
    fields = {
        "Deployment frequency": frequency(figures),
        "Change failure rate": _failure_rate(figures),
        "Time to restore": _restore(figures),
        "Median build time": (
            duration(figures.median_build_seconds)
            if figures.median_build_seconds is not None
            else "no build times reported"
        ),
    }
    return [
        fitted.section(f":bar_chart: *{escape(app)}* over the last {period}"),
        fitted.fields([f"*{k}*\n{v}" for k, v in fields.items()]),
    ]


def _failure_rate(figures: Stats) -> str:
    rate = figures.change_failure_rate
    if rate is None:
        return "no deploy finished"
    return f"{rate:.0%} ({figures.change_failures} of {figures.changes})"


def _restore(figures: Stats) -> str:
    median = figures.median_restore_seconds
    if median is None:
        down = figures.still_down
        return "not restored yet since the last failure" if down else "no failures or rollbacks"
    text = f"{duration(median)} (median of {len(figures.restores)})"
    return f"{text}; the last failure is not restored yet" if figures.still_down else text
