"""Pure Block Kit for freezes, `/deploy history` and `/deploy stats` (and the Home tab)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import Block, ContextBlock, MarkdownTextObject, SectionBlock

from bot.blocks import SECTION_LIMIT, age, state_words
from bot.blocks import escape as escape  # noqa: PLC0414 - still importable from here
from bot.freezes import Freeze, Window, frozen, upcoming
from bot.models import Approval, Deployment, Kind, Status, Tracked
from bot.stats import Stats, duration, frequency

MAX_BLOCKS = 50
CONTEXT_ELEMENTS = 10
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
    if current is not None:
        until = when(current.until, current.window.freeze.zone, now=now)
        lines.append(f":cold_face: Frozen until {until}: {escape(current.reason)}")
    later = [w for w in upcoming(freezes, now, app=app, limit=soon + 2) if w.start > now]
    lines.extend(_next_freeze(w, now=now) for w in later[:soon])
    return lines


def freeze_context(freezes: Sequence[Freeze], app: str, *, now: datetime) -> ContextBlock | None:
    lines = freeze_lines(freezes, app, now=now)
    if not lines:
        return None
    return ContextBlock(
        elements=[MarkdownTextObject(text=line) for line in lines[:CONTEXT_ELEMENTS]]
    )


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


def history_row(row: Tracked) -> HistoryRow:
    """What the bot knows of a deployment it started."""
    return HistoryRow(
        id=row.deployment_id,
        status=row.status,
        when=row.created_at,
        ref=row.ref,
        who=row.requester,
        rollback=row.kind is Kind.ROLLBACK,
        discarded=row.approval is Approval.DISCARDED,
        awaiting=row.pending,
    )


def merge_history(
    ours: Sequence[HistoryRow], theirs: Iterable[Deployment], *, limit: int = 15
) -> list[HistoryRow]:
    """The provider's list, with who asked and what for from our rows, and our rows it lacks.

    The provider is right about status and times. Our rows it does not list are kept when they
    never reached it, or when they are newer than its oldest entry (older ones fell off its page).
    """
    by_id = {row.id: row for row in ours if row.id is not None}
    rows = [_merged(d, by_id.pop(d.id, None)) for d in theirs]
    oldest = min((row.when for row in rows if row.when is not None), default=None)
    rows += [r for r in by_id.values() if _not_before(r.when, oldest)]
    rows += [r for r in ours if r.id is None]
    rows.sort(key=lambda r: r.when or _UNKNOWN, reverse=True)
    return rows[:limit]


def _not_before(at: datetime | None, oldest: datetime | None) -> bool:
    return at is None or oldest is None or at >= oldest


def _merged(deployment: Deployment, ours: HistoryRow | None) -> HistoryRow:
    seconds = deployment.build_seconds
    if seconds is None and deployment.created_at and deployment.finished_at:
        seconds = int((deployment.finished_at - deployment.created_at).total_seconds())
    return HistoryRow(
        id=deployment.id,
        status=deployment.status,
        when=deployment.created_at or (ours.when if ours else None),
        ref=deployment.ref or (ours.ref if ours else None),
        who=ours.who if ours else None,
        seconds=seconds,
        rollback=ours.rollback if ours else False,
        discarded=ours.discarded if ours else False,
        awaiting=ours.awaiting if ours else False,
    )


def history(app: str, rows: Sequence[HistoryRow], *, now: datetime) -> list[Block]:
    """`/deploy history <app>`: one line each, newest first: id, ref, outcome, who, when, took."""
    if not rows:
        return [SectionBlock(text=f"*{escape(app)}*: no deployments yet.")]
    title = f"*{escape(app)}*: the last {len(rows)} deployments, newest first"
    return _sections([title, *(_history_line(row, now=now) for row in rows)])


def _history_line(row: HistoryRow, *, now: datetime) -> str:
    what = f"`{escape(row.id)}`" if row.id else "_not started_"
    if row.rollback:
        what = f"rollback to {what}"
    parts = [f"{row.status.emoji} {what}"]
    if row.ref:
        parts.append(f"`{escape(_clip(row.ref, 60))}`")
    parts.append(state_words(row.status, discarded=row.discarded, awaiting=row.awaiting))
    parts.append(f"by <@{row.who}>" if row.who else "outside deploybot")
    parts.append(age(row.when, now=now) if row.when else "time unknown")
    if row.seconds is not None:
        parts.append(f"took {duration(row.seconds)}")
    return " · ".join(parts)


# Stats --------------------------------------------------------------------------------------


def stats(app: str, figures: Stats) -> list[Block]:
    """`/deploy stats <app> [days]`: the four DORA figures, or why there are none."""
    period = "day" if figures.days == 1 else f"{figures.days} days"
    if figures.requested == 0:
        return [SectionBlock(text=f"No deployments of *{escape(app)}* in the last {period}.")]
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
        SectionBlock(text=f":bar_chart: *{escape(app)}* over the last {period}"),
        SectionBlock(
            fields=[MarkdownTextObject(text=f"*{k}*\n{v}") for k, v in fields.items()],
        ),
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


# Limits -------------------------------------------------------------------------------------


def _sections(lines: Sequence[str]) -> list[Block]:
    """Lines packed into sections under Slack's size limit, at most MAX_BLOCKS of them."""
    chunks: list[str] = []
    for line in lines:
        line = _clip(line, SECTION_LIMIT)  # noqa: PLW2901 - the clipped line is the line
        if chunks and len(chunks[-1]) + 1 + len(line) <= SECTION_LIMIT:
            chunks[-1] += "\n" + line
        else:
            chunks.append(line)
    return [SectionBlock(text=chunk) for chunk in chunks[:MAX_BLOCKS]]


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
