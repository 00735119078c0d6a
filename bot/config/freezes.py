"""Scheduled freezes (`[[freezes]]` in the apps file): when may an app not be deployed. Pure.

A dated window has `start` and `end` (RFC 3339). A recurring window starts at each fire of a
5-field `cron`, read on the clock of `timezone`, and lasts `duration` on that same clock: the
weekend window "0 16 * * FRI" for 64h ends Monday 08:00 even when the clocks change on Sunday.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import islice
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter
from pydantic import BaseModel, ConfigDict, field_validator, model_validator

EVERY_APP = "*"
_DURATION = re.compile(r"(?:(?P<d>\d+)d)?(?:(?P<h>\d+)h)?(?:(?P<m>\d+)m)?")
_MAX_CHAIN = 100  # windows followed when one ends inside another; a cron always frozen stops here


class Freeze(BaseModel):
    """One `[[freezes]]` table, checked."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    apps: tuple[str, ...] = (EVERY_APP,)
    start: datetime | None = None
    end: datetime | None = None
    cron: str | None = None
    duration: timedelta | None = None
    timezone: str | None = None
    reason: str = "Scheduled freeze"

    @field_validator("apps")
    @classmethod
    def _apps_named(cls, apps: tuple[str, ...]) -> tuple[str, ...]:
        if not apps:
            raise ValueError('an empty list freezes nothing; leave `apps` out (or ["*"]) for all')
        if EVERY_APP in apps and len(apps) > 1:
            raise ValueError('"*" already means every app; give "*" alone or app names')
        return apps

    @field_validator("start", "end", mode="before")
    @classmethod
    def _rfc3339(cls, value: object) -> datetime:
        when = value
        if isinstance(value, str):
            try:
                when = datetime.fromisoformat(value)
            except ValueError:
                when = None
        if not isinstance(when, datetime):
            # pydantic turns ValueError, not TypeError, into a validation error
            raise ValueError(f"{value!r} is not a time; write it like 2026-12-24T00:00:00Z")  # noqa: TRY004
        if when.tzinfo is None:
            raise ValueError(f"{value!r} has no UTC offset; end it with Z or +01:00")
        return when

    @field_validator("cron")
    @classmethod
    def _five_fields(cls, cron: str) -> str:
        if len(cron.split()) != 5 or not croniter.is_valid(cron):
            raise ValueError(
                f"{cron!r} is not a cron expression "
                "(5 fields: minute hour day-of-month month day-of-week, e.g. 0 16 * * FRI)"
            )
        return cron

    @field_validator("duration", mode="before")
    @classmethod
    def _duration(cls, value: object) -> timedelta:
        match = _DURATION.fullmatch(value) if isinstance(value, str) else None
        parts = {k: int(v) for k, v in match.groupdict().items() if v} if match else {}
        length = timedelta(days=parts.get("d", 0), hours=parts.get("h", 0))
        length += timedelta(minutes=parts.get("m", 0))
        if not length:
            raise ValueError(f"{value!r} is not a duration; write it like 64h, 30m or 1h30m")
        return length

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, name: str) -> str:
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone {name!r}; use a name such as Europe/Berlin or UTC"
            ) from None
        return name

    @model_validator(mode="after")
    def _one_kind_of_window(self) -> Freeze:
        dated = self.start is not None or self.end is not None
        if self.cron is not None and dated:
            raise ValueError("give `cron` (a recurring window) or `start` and `end`, not both")
        if self.cron is not None:
            if self.duration is None:
                raise ValueError('a `cron` window needs a `duration`, e.g. duration = "64h"')
            return self
        if not dated:
            raise ValueError("give `start` and `end` (a dated window), or `cron` and `duration`")
        if self.start is None or self.end is None:
            raise ValueError("a dated window needs both `start` and `end`")
        if self.end <= self.start:
            raise ValueError("`end` must be after `start`")
        if self.duration is not None or self.timezone is not None:
            raise ValueError(
                "`duration` and `timezone` are for `cron` windows; "
                "a dated window's `start` and `end` carry their own offset"
            )
        return self

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone or "UTC")

    def covers(self, app: str) -> bool:
        return EVERY_APP in self.apps or app in self.apps

    def window_at(self, at: datetime) -> Window | None:
        """The window of this freeze that holds `at` (start included, end excluded)."""
        if self.start is not None and self.end is not None:
            window = Window(self, self.start.astimezone(UTC), self.end.astimezone(UTC))
            return window if window.holds(at) else None
        # The latest fire at or before `at` ends last: if it misses `at`, every earlier one does.
        after = at.astimezone(UTC).replace(second=0, microsecond=0) + timedelta(minutes=1)
        fire = croniter(self._cron, after.astimezone(self.zone)).get_prev(datetime)
        window = self._window_from(fire)
        return window if window.holds(at) else None

    def windows_from(self, at: datetime) -> Iterator[Window]:
        """This freeze's windows that end after `at`, in order of start."""
        current = self.window_at(at)
        if current is not None:
            yield current
        if self.cron is None:
            if self.start is not None and self.start > at:
                yield Window(self, self.start.astimezone(UTC), self._end.astimezone(UTC))
            return
        fires = croniter(self._cron, at.astimezone(self.zone))
        while True:
            yield self._window_from(fires.get_next(datetime))

    def _window_from(self, fire: datetime) -> Window:
        assert self.duration is not None  # checked: a cron window has a duration
        return Window(self, fire.astimezone(UTC), (fire + self.duration).astimezone(UTC))

    @property
    def _cron(self) -> str:
        assert self.cron is not None
        return self.cron

    @property
    def _end(self) -> datetime:
        assert self.end is not None
        return self.end


@dataclass(frozen=True)
class Window:
    """One stretch of time during which a freeze holds; times in UTC."""

    freeze: Freeze
    start: datetime
    end: datetime

    @property
    def reason(self) -> str:
        return self.freeze.reason

    def holds(self, at: datetime) -> bool:
        return self.start <= at < self.end


@dataclass(frozen=True)
class Frozen:
    """Why an app may not be deployed now, and when it may again."""

    window: Window  # the window that ends last, at `until`
    until: datetime  # when deploys may resume: later than a window's end if another follows on
    # Every window between now and `until`: those holding now, then those that follow on
    windows: tuple[Window, ...] = ()

    @property
    def reasons(self) -> tuple[str, ...]:
        """Each freeze's reason once, in the order its window started."""
        ordered = sorted(self.windows or (self.window,), key=lambda w: (w.start, w.end))
        return tuple(dict.fromkeys(w.reason for w in ordered))

    @property
    def reason(self) -> str:
        return "; ".join(self.reasons)


def frozen(freezes: Iterable[Freeze], app: str, at: datetime) -> Frozen | None:
    """Is `app` frozen at `at`? If so by which freezes, why, and until when.

    Overlapping windows, and windows that start before another ends, are one freeze: it lasts
    until the last of them ends, and every one of them says why.
    """
    mine = [f for f in freezes if f.covers(app)]
    holding = _holding(mine, at)
    if not holding:
        return None
    windows = list(holding)
    latest = max(holding, key=lambda w: w.end)
    for _ in range(_MAX_CHAIN):
        following = [w for w in _holding(mine, latest.end) if w not in windows]
        if not following:
            break
        windows += following
        latest = max(following, key=lambda w: w.end)
    return Frozen(latest, latest.end, tuple(windows))


def upcoming(
    freezes: Iterable[Freeze],
    at: datetime,
    *,
    app: str | None = None,
    within: timedelta = timedelta(days=14),
    limit: int = 5,
) -> list[Window]:
    """Windows holding now or starting within `within`, soonest first (for an app, or any)."""
    horizon = at + within
    found: list[Window] = []
    for freeze in freezes:
        if app is not None and not freeze.covers(app):
            continue
        # Each freeze's first `limit` windows are enough to find the `limit` soonest of all.
        for window in islice(freeze.windows_from(at), limit):
            if window.start >= horizon:
                break
            found.append(window)
    found.sort(key=lambda w: (w.start, w.end))
    return found[:limit]


def _holding(freezes: Iterable[Freeze], at: datetime) -> list[Window]:
    return [w for f in freezes if (w := f.window_at(at)) is not None]
