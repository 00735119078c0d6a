"""Clocks for the fakes: deployments move through their states lazily, read from a clock."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Protocol

#: 2025-03-18T12:20:00Z, the `createdAt` of Stormkit's doc example.
MANUAL_CLOCK_START = 1_742_300_400.0


class Clock(Protocol):
    def now(self) -> float:
        """Seconds since the epoch."""
        ...


class ManualClock:
    """A clock that only moves when a test calls `advance`."""

    def __init__(self, start: float = MANUAL_CLOCK_START) -> None:
        self._now = start

    def now(self) -> float:
        return self._now

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("a clock does not go backwards")
        self._now += seconds


class RealClock:
    """Wall-clock time, for end-to-end runs and benchmarks."""

    def now(self) -> float:
        return time.time()


class WallClock:
    """The bot's one clock in tests: wall time, which a test may move on (a stuck deployment)."""

    def __init__(self) -> None:
        self.offset = timedelta()
        self.stopped: datetime | None = None  # the bot's time stands still (a fake outage)

    def __call__(self) -> datetime:
        return (self.stopped or datetime.now(UTC)) + self.offset

    def stop(self) -> None:
        """From now on the bot's time moves only when `offset` does."""
        self.stopped = datetime.now(UTC)
