"""DORA figures for one app: the records they count, made from the bot's rows and the
provider's list, and the figures counted from them. Pure.

Which records count: those requested within the last `days` days. A deployment *went live* when
it has `live_at` (a deploy later rolled back went live too). A *change failure* is a deploy that
failed, or that was rolled back within a day of going live. Time to restore runs from a failure
(a deploy or rollback that failed) or from a rollback being asked for, to the next time anything
went live; failures in a row before that are one outage.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from statistics import median

from bot.models import Deployment, Kind, Status, Tracked

ROLLBACK_COUNTS_WITHIN = timedelta(days=1)


class RecordKind(StrEnum):
    """What a record counts as: a deploy (a restart or a publish counts as its deploy), or a
    rollback."""

    DEPLOY = "deploy"
    ROLLBACK = "rollback"


class Outcome(StrEnum):
    """How a deployment ended; the values are those of `models.Status`."""

    LIVE = "live"
    FAILED = "failed"
    STOPPED = "stopped"
    ROLLED_BACK = "rolled_back"


@dataclass(frozen=True)
class Record:
    """One finished deployment of an app, through the bot or seen at the provider."""

    app: str
    id: str
    kind: RecordKind
    outcome: Outcome
    requested_at: datetime
    live_at: datetime | None = None  # when it went live, if it did
    finished_at: datetime | None = None  # when it failed or stopped, or was rolled back
    build_seconds: int | None = None


@dataclass(frozen=True)
class Stats:
    days: int
    requested: int  # deployments and rollbacks asked for in the window
    went_live: int  # deploys (not rollbacks) that went live
    changes: int  # deploys that went live or failed (stopped ones are neither)
    change_failures: int
    restores: tuple[float, ...]  # seconds of each outage that ended, in order
    still_down: int  # outages not restored yet
    build_seconds: tuple[int, ...]

    @property
    def per_day(self) -> float:
        return self.went_live / self.days

    @property
    def change_failure_rate(self) -> float | None:
        return self.change_failures / self.changes if self.changes else None

    @property
    def median_restore_seconds(self) -> float | None:
        return median(self.restores) if self.restores else None

    @property
    def median_build_seconds(self) -> float | None:
        return median(self.build_seconds) if self.build_seconds else None


def compute(records: list[Record], *, now: datetime, days: int = 30) -> Stats:
    """The figures over the `days` days up to `now`."""
    if days < 1:
        raise ValueError("days must be at least 1")
    since = now - timedelta(days=days)
    window = sorted(
        (r for r in records if since <= r.requested_at <= now), key=lambda r: r.requested_at
    )
    deploys = [r for r in window if r.kind is RecordKind.DEPLOY]
    changes = [r for r in deploys if r.outcome is not Outcome.STOPPED]
    restores, still_down = _outages(window)
    return Stats(
        days=days,
        requested=len(window),
        went_live=sum(1 for r in deploys if r.live_at is not None),
        changes=len(changes),
        change_failures=sum(1 for r in changes if _is_change_failure(r)),
        restores=tuple(restores),
        still_down=still_down,
        build_seconds=tuple(r.build_seconds for r in window if r.build_seconds is not None),
    )


def frequency(stats: Stats) -> str:
    """Deployment frequency in the unit a person would say: a day, a week, or a count."""
    if stats.went_live == 0:
        return f"no deployments went live in the last {_days(stats.days)}"
    count = f"{stats.went_live} in {_days(stats.days)}"
    if stats.per_day >= 1:
        return f"{_one_decimal(stats.per_day)} a day ({count})"
    if stats.days >= 7:
        return f"{_one_decimal(stats.per_day * 7)} a week ({count})"
    return count


def duration(seconds: float) -> str:
    """3d 4h, 2h 5m, 4m 10s, 12s: the two largest units."""
    whole = round(seconds)
    parts: list[str] = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if whole >= size or (size == 1 and not parts):
            parts.append(f"{whole // size}{unit}")
            whole %= size
    return " ".join(parts[:2])


def _is_change_failure(record: Record) -> bool:
    if record.outcome is Outcome.FAILED:
        return True
    if record.outcome is not Outcome.ROLLED_BACK:
        return False
    if record.live_at is None or record.finished_at is None:
        return True  # rolled back, and we cannot tell how soon: count it rather than hide it
    return record.finished_at - record.live_at <= ROLLBACK_COUNTS_WITHIN


def _outages(records: list[Record]) -> tuple[list[float], int]:
    events: list[tuple[datetime, int]] = []  # (when, 0 = went down, 1 = went live)
    for r in records:
        if r.outcome is Outcome.FAILED:
            events.append((r.finished_at or r.requested_at, 0))
        if r.kind is RecordKind.ROLLBACK:
            events.append((r.requested_at, 0))
        if r.live_at is not None:
            events.append((r.live_at, 1))
    down_since: datetime | None = None
    restores: list[float] = []
    for when, live in sorted(events):
        if not live and down_since is None:
            down_since = when
        elif live and down_since is not None:
            restores.append((when - down_since).total_seconds())
            down_since = None
    return restores, int(down_since is not None)


def _days(days: int) -> str:
    return "day" if days == 1 else f"{days} days"


def _one_decimal(value: float) -> str:
    return f"{value:.1f}".removesuffix(".0")


_OUTCOMES = {
    Status.LIVE: Outcome.LIVE,
    Status.FAILED: Outcome.FAILED,
    Status.STOPPED: Outcome.STOPPED,
    # Nometria says rolled_back of any deployment another one replaced: it went live, and
    # whether a rollback replaced it is read from the bot's rollbacks (below), not from this.
    Status.ROLLED_BACK: Outcome.LIVE,
}
_WENT_LIVE = frozenset({Outcome.LIVE, Outcome.ROLLED_BACK})


def records(app: str, ours: Sequence[Tracked], theirs: Sequence[Deployment]) -> list[Record]:
    """Finished deployments from the bot's rows and the provider's list, one record each.

    The provider is right about how a deployment ended, the bot about what was a rollback and
    when it saw one go live (its own clock first, so one record's times are on one clock). A
    deploy that a rollback was asked for while it was live counts as rolled back then. A
    restarted deployment is one record a run: each run before the last failed when its row
    says, whatever the provider says of the deployment now.
    """
    listed = {d.id: d for d in theirs}
    rollbacks = [r for r in ours if r.kind is Kind.ROLLBACK and r.deployment_id]
    runs: dict[str, list[Tracked]] = {}
    for row in sorted(ours, key=lambda r: r.id):
        if row.deployment_id and row.kind is not Kind.ROLLBACK:
            runs.setdefault(row.deployment_id, []).append(row)
    rolled_back_ids = {r.deployment_id for r in rollbacks}
    found: list[Record | None] = []
    for id_, rows in runs.items():
        found += _before_restarts(app, id_, rows)
        restarted = len(rows) > 1 or rows[0].kind is Kind.RESTART
        found.append(_deploy(app, id_, rows[-1], listed.get(id_), restarted=restarted))
    for d in theirs:
        if d.id not in runs and d.id not in rolled_back_ids:
            found.append(_deploy(app, d.id, None, d))
    found += [_rollback(app, row) for row in rollbacks]
    return _rolled_back([r for r in found if r is not None])


def _before_restarts(app: str, id_: str, rows: list[Tracked]) -> list[Record]:
    """The runs of one deployment that a restart followed, as they ended: only a failed (or
    stopped) deployment can be restarted. Each row but the newest is such a run, and so is the
    run before a restart of a deployment the bot had not followed (failed by then)."""
    found = []
    first = rows[0]
    if first.kind is Kind.RESTART:
        at = first.created_at
        found.append(Record(app, id_, RecordKind.DEPLOY, Outcome.FAILED, at, finished_at=at))
    for row in rows[:-1]:
        outcome = Outcome.STOPPED if row.status is Status.STOPPED else Outcome.FAILED
        ended = row.updated_at or row.created_at
        found.append(
            Record(app, id_, RecordKind.DEPLOY, outcome, row.created_at, finished_at=ended)
        )
    return found


def _deploy(
    app: str,
    id_: str,
    row: Tracked | None,
    listed: Deployment | None,
    *,
    restarted: bool = False,
) -> Record | None:
    outcome = _OUTCOMES.get(listed.status) if listed else None
    if outcome is None and row is not None:
        outcome = _OUTCOMES.get(row.status)
    requested = row.created_at if row else listed.created_at if listed else None
    if outcome is None or requested is None:
        return None  # still under way, or built and never published
    seen_ended = row.updated_at if row is not None and row.status.finished else None
    provider_ended = (listed.finished_at or listed.created_at) if listed else None
    live_at = finished_at = None
    if outcome in _WENT_LIVE:
        saw_live = row is not None and row.status is Status.LIVE
        live_at = seen_ended if saw_live else provider_ended or seen_ended
    else:  # the bot's own clock first, so that one record's times are on one clock
        finished_at = seen_ended or provider_ended
    return Record(
        app=app,
        id=id_,
        kind=RecordKind.DEPLOY,
        outcome=outcome,
        requested_at=requested,
        live_at=live_at,
        finished_at=finished_at,
        build_seconds=_build(listed, restarted=restarted),
    )


def _rollback(app: str, row: Tracked) -> Record | None:
    outcome = _OUTCOMES.get(row.status)
    if outcome is None or row.deployment_id is None:
        return None
    live_at = row.updated_at if outcome is Outcome.LIVE else None
    finished_at = row.updated_at if outcome is not Outcome.LIVE else None
    return Record(
        app=app,
        id=row.deployment_id,
        kind=RecordKind.ROLLBACK,
        outcome=outcome,
        requested_at=row.created_at,
        live_at=live_at,
        finished_at=finished_at,
    )


def _build(listed: Deployment | None, *, restarted: bool = False) -> int | None:
    """`restarted`: the listing's created_at is the first run's, not this one's."""
    if listed is None or listed.build_seconds is not None:
        return listed.build_seconds if listed else None
    if not restarted and listed.created_at and listed.finished_at:
        return int((listed.finished_at - listed.created_at).total_seconds())
    return None


def _rolled_back(found: list[Record]) -> list[Record]:
    """A deploy live when a rollback was asked for (before the next deploy went live)."""
    asked = sorted(r.requested_at for r in found if r.kind is RecordKind.ROLLBACK)
    lives = sorted(
        r.live_at for r in found if r.kind is RecordKind.DEPLOY and r.live_at is not None
    )
    out = []
    for r in found:
        if r.kind is RecordKind.DEPLOY and r.live_at is not None:
            live_at = r.live_at
            ends = [t for t in lives if t > live_at]
            rollback = next((t for t in asked if t > live_at), None)
            if rollback is not None and (not ends or rollback < ends[0]):
                r = replace(r, outcome=Outcome.ROLLED_BACK, finished_at=rollback)  # noqa: PLW2901
        out.append(r)
    return out
