"""DORA figures from hand-built histories; each test's docstring works the answer out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.dora import Outcome, Record, RecordKind, Stats, compute, duration, frequency

NOW = datetime(2026, 12, 2, 12, tzinfo=UTC)


def at(days_ago: float, hours: float = 0) -> datetime:
    return NOW - timedelta(days=days_ago) + timedelta(hours=hours)


def deploy(
    n: int,
    outcome: Outcome,
    requested: datetime,
    *,
    live_after_min: float | None = None,
    finished: datetime | None = None,
    build: int | None = None,
    kind: RecordKind = RecordKind.DEPLOY,
) -> Record:
    live = requested + timedelta(minutes=live_after_min) if live_after_min is not None else None
    return Record(
        app="web",
        id=f"d{n}",
        kind=kind,
        outcome=outcome,
        requested_at=requested,
        live_at=live,
        finished_at=finished,
        build_seconds=build,
    )


def test_an_empty_window_says_so() -> None:
    """One deploy 40 days ago is outside the 30 days: nothing counts, no rate, no medians."""
    stats = compute([deploy(1, Outcome.LIVE, at(40), live_after_min=5, build=60)], now=NOW)
    assert stats.requested == 0
    assert stats.change_failure_rate is None
    assert stats.median_restore_seconds is None
    assert stats.median_build_seconds is None
    assert frequency(stats) == "no deployments went live in the last 30 days"


def test_a_quiet_month() -> None:
    """Four deploys in 30 days, each live, builds 60, 120, 180, 600 s.

    Frequency: 4 / 30 a day = 0.93 a week, shown as "0.9 a week (4 in 30 days)".
    Change failure rate 0 / 4. No outage. Median build: (120 + 180) / 2 = 150 s.
    """
    history = [
        deploy(i, Outcome.LIVE, at(25 - 7 * i), live_after_min=5, build=b)
        for i, b in enumerate((60, 120, 180, 600))
    ]
    stats = compute(history, now=NOW)
    assert (stats.went_live, stats.changes, stats.change_failures) == (4, 4, 0)
    assert stats.change_failure_rate == 0
    assert frequency(stats) == "0.9 a week (4 in 30 days)"
    assert stats.median_build_seconds == 150
    assert (stats.restores, stats.still_down) == ((), 0)


def test_a_busy_week_counts_a_day() -> None:
    """21 live deploys in 7 days: 3 a day."""
    history = [deploy(i, Outcome.LIVE, at(i / 3 + 0.1), live_after_min=1) for i in range(21)]
    assert frequency(compute(history, now=NOW, days=7)) == "3 a day (21 in 7 days)"


def test_failures_rollbacks_and_restores() -> None:
    """A week of web, in order (days ago, time from then):

    d1 7.0      deploy, live at +10m, rolled back 2h later  -> change failure
    d2 7.0+2h10 rollback to d0, live 2m later               -> outage of 2m
    d3 5.0      deploy, failed at +20m                      -> change failure; outage opens
    d4 5.0+1h   deploy, failed at +1h15m                    -> change failure; same outage
    d5 4.0      deploy, live at +30m                        -> outage ends, 1d 10m after d3 failed
    d6 3.0      deploy, live at +10m, rolled back ~3d later -> a change, not a failure
    d7 2.0      deploy, stopped by hand                     -> neither change nor failure
    d8 1.0      deploy, failed at +5m, nothing live after   -> change failure; still down

    Went live: d1, d5, d6 = 3 (the rollback d2 is not a deployment of a change).
    Changes: d1 d3 d4 d5 d6 d8 = 6; failures: d1 d3 d4 d8 = 4; rate 4/6.
    Restores: 2m = 120 s, and from d3's failure (5.0 + 20m) to d5 live (4.0 + 30m) = 1d 10m
    = 87000 s; median (120 + 87000) / 2 = 43560 s. One outage still open (d8).
    """
    history = [
        deploy(1, Outcome.ROLLED_BACK, at(7), live_after_min=10, finished=at(7, 2 + 10 / 60)),
        deploy(2, Outcome.LIVE, at(7, 2 + 10 / 60), live_after_min=2, kind=RecordKind.ROLLBACK),
        deploy(3, Outcome.FAILED, at(5), finished=at(5, 20 / 60)),
        deploy(4, Outcome.FAILED, at(5, 1), finished=at(5, 1.25)),
        deploy(5, Outcome.LIVE, at(4), live_after_min=30),
        deploy(6, Outcome.ROLLED_BACK, at(3), live_after_min=10, finished=at(0, -1)),
        deploy(7, Outcome.STOPPED, at(2), finished=at(2, 0.1)),
        deploy(8, Outcome.FAILED, at(1), finished=at(1, 5 / 60)),
    ]
    stats = compute(history, now=NOW)
    assert stats.went_live == 3
    assert (stats.changes, stats.change_failures) == (6, 4)
    assert stats.change_failure_rate == pytest.approx(4 / 6)
    assert stats.restores == pytest.approx((120, 87000))
    assert stats.median_restore_seconds == pytest.approx(43560)
    assert stats.still_down == 1
    assert duration(87000) == "1d 10m"


def test_a_rollback_without_times_counts_as_a_failure() -> None:
    """Rolled back with no live time known: counted, 1 of 1, rather than hidden."""
    stats = compute([deploy(1, Outcome.ROLLED_BACK, at(1))], now=NOW)
    assert stats.change_failure_rate == 1


def test_the_window_is_the_last_n_days() -> None:
    """Deploys 3 and 10 days ago: over 7 days 1 counts, 1/7 a day = 1 a week; 3 days: a count."""
    history = [deploy(1, Outcome.LIVE, at(3), live_after_min=1)]
    history.append(deploy(2, Outcome.LIVE, at(10), live_after_min=1))
    stats = compute(history, now=NOW, days=7)
    assert stats.went_live == 1
    assert frequency(stats) == "1 a week (1 in 7 days)"
    assert frequency(compute(history, now=NOW, days=3)) == "1 in 3 days"
    assert (
        frequency(compute(history, now=NOW, days=1)) == "no deployments went live in the last day"
    )


def test_days_must_be_positive() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        compute([], now=NOW, days=0)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0, "0s"), (12, "12s"), (250, "4m 10s"), (7500, "2h 5m"), (273600, "3d 4h"), (3600, "1h")],
)
def test_durations_read_in_two_units(seconds: float, text: str) -> None:
    assert duration(seconds) == text


def test_stats_is_plain_data() -> None:
    """Stats built by hand give the same derived figures (the Home tab builds them from rows)."""
    stats = Stats(
        days=30,
        requested=2,
        went_live=2,
        changes=2,
        change_failures=1,
        restores=(60.0,),
        still_down=0,
        build_seconds=(30, 90),
    )
    assert (stats.change_failure_rate, stats.median_build_seconds) == (0.5, 60)
