"""DORA figures for one app from its deployment records. Pure.

Which records count: those requested within the last `days` days. A deployment *went live* when
it has `live_at` (a deploy later rolled back went live too). A *change failure* is a deploy that
failed, or that was rolled back within a day of going live. Time to restore runs from a failure
(a deploy or rollback that failed) or from a rollback being asked for, to the next time anything
went live; failures in a row before that are one outage.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from statistics import median

ROLLBACK_COUNTS_WITHIN = timedelta(days=1)


class Kind(StrEnum):
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
    kind: Kind
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
    deploys = [r for r in window if r.kind is Kind.DEPLOY]
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
        if r.kind is Kind.ROLLBACK:
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
