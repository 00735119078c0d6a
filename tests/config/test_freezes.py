"""Scheduled freezes: which instants are frozen, for which apps, why and until when."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from bot.config.freezes import Freeze, frozen, upcoming

HOLIDAYS = Freeze(
    apps=("web",),
    start=datetime(2026, 12, 24, tzinfo=UTC),
    end=datetime(2026, 12, 27, tzinfo=UTC),
    reason="Holidays",
)
# Fridays 16:00 Berlin for 64h: Monday 08:00 Berlin. CET is UTC+1, CEST UTC+2.
WEEKEND = Freeze.model_validate(
    {
        "cron": "0 16 * * FRI",
        "duration": "64h",
        "timezone": "Europe/Berlin",
        "reason": "No deploys over the weekend",
    }
)


BOTH = "Holidays; No deploys over the weekend"  # the holidays run into the weekend


def utc(*parts: int) -> datetime:
    """utc(2026, 12, 24, 15) is 24 Dec 2026 15:00 UTC."""
    return datetime(*parts).replace(tzinfo=UTC)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("app", "at", "reason", "until"),
    [
        # dated window, listed app: start included. The holidays end Sunday 27 Dec inside the
        # weekend window (Fri 25 Dec 15:00 UTC to Mon 28 Dec 07:00 UTC), so web waits for Monday.
        ("web", utc(2026, 12, 23, 23, 59, 59), None, None),
        ("web", utc(2026, 12, 24), BOTH, utc(2026, 12, 28, 7)),
        ("web", utc(2026, 12, 25, 12), BOTH, utc(2026, 12, 28, 7)),
        ("web", utc(2026, 12, 26, 12), BOTH, utc(2026, 12, 28, 7)),
        ("web", utc(2026, 12, 27), "No deploys over the weekend", utc(2026, 12, 28, 7)),
        ("web", utc(2026, 12, 28, 7), None, None),
        # not listed: only the weekend (every app) applies; 24 Dec 2026 is a Thursday
        ("docs", utc(2026, 12, 25, 12), None, None),
        # winter (CET): Friday 16:00 Berlin is 15:00 UTC; Monday 08:00 Berlin is 07:00 UTC
        ("docs", utc(2026, 12, 4, 14, 59), None, None),
        ("docs", utc(2026, 12, 4, 15), "No deploys over the weekend", utc(2026, 12, 7, 7)),
        ("docs", utc(2026, 12, 6, 12), "No deploys over the weekend", utc(2026, 12, 7, 7)),
        ("docs", utc(2026, 12, 7, 6, 59, 59), "No deploys over the weekend", utc(2026, 12, 7, 7)),
        ("docs", utc(2026, 12, 7, 7), None, None),
        # summer (CEST): 16:00 Berlin is 14:00 UTC
        ("docs", utc(2026, 7, 3, 13, 59), None, None),
        ("docs", utc(2026, 7, 3, 14), "No deploys over the weekend", utc(2026, 7, 6, 6)),
        # clocks go forward on Sunday 29 March 2026: starts 15:00 UTC, ends Monday 08:00 CEST
        ("docs", utc(2026, 3, 27, 15), "No deploys over the weekend", utc(2026, 3, 30, 6)),
        ("docs", utc(2026, 3, 30, 6), None, None),
        # clocks go back on Sunday 25 October 2026: starts 14:00 UTC, ends Monday 08:00 CET
        ("docs", utc(2026, 10, 23, 14), "No deploys over the weekend", utc(2026, 10, 26, 7)),
        ("docs", utc(2026, 10, 26, 6, 30), "No deploys over the weekend", utc(2026, 10, 26, 7)),
    ],
)
def test_frozen_at_an_instant(
    app: str, at: datetime, reason: str | None, until: datetime | None
) -> None:
    """The table: inside, outside, both edges, DST in both directions, every app or listed."""
    found = frozen([HOLIDAYS, WEEKEND], app, at)
    assert (found.reason if found else None) == reason
    assert (found.until if found else None) == until


def test_a_dated_window_ends_at_its_end() -> None:
    """Alone, the holidays hold until the last second before `end`."""
    assert frozen([HOLIDAYS], "web", utc(2026, 12, 26, 23, 59, 59)) is not None
    assert frozen([HOLIDAYS], "web", utc(2026, 12, 27)) is None


def test_overlapping_windows_say_every_reason_and_take_the_latest_end() -> None:
    """Holidays end Sunday 27 Dec inside the weekend window, which ends Monday 07:00 UTC."""
    holidays_everywhere = HOLIDAYS.model_copy(update={"apps": ("*",)})
    found = frozen([WEEKEND, holidays_everywhere], "web", utc(2026, 12, 26, 12))
    assert found is not None
    assert found.reasons == ("Holidays", "No deploys over the weekend")  # in order of start
    assert found.until == utc(2026, 12, 28, 7)
    assert found.window.freeze is WEEKEND  # the one that ends last, whose clock says `until`


def test_a_freeze_that_ends_inside_another_frozen_until_the_other_ends() -> None:
    """Thursday's holidays (ending Sunday) run into the weekend window: frozen until Monday,
    and the weekend is said as a reason too, since it is why deploys wait past Sunday."""
    holidays = HOLIDAYS.model_copy(update={"apps": ("*",)})
    found = frozen([holidays, WEEKEND], "docs", utc(2026, 12, 24, 12))
    assert found is not None
    assert found.reason == BOTH
    assert [w.end for w in found.windows] == [utc(2026, 12, 27), utc(2026, 12, 28, 7)]
    assert found.until == utc(2026, 12, 28, 7)


def test_three_overlapping_freezes_with_one_reason_twice() -> None:
    """Every reason once, the latest end of all; a window that ended before now says nothing."""

    def dated(start: int, end: int, reason: str) -> Freeze:
        return Freeze(start=utc(2026, 6, start), end=utc(2026, 6, end), reason=reason)

    freezes = [
        dated(1, 3, "Audit"),  # over before the 5th
        dated(4, 8, "Launch"),
        dated(5, 12, "Migration"),
        dated(6, 7, "Launch"),
    ]
    found = frozen(freezes, "web", utc(2026, 6, 6, 12))
    assert found is not None
    assert found.reasons == ("Launch", "Migration")
    assert found.until == utc(2026, 6, 12)


def test_a_cron_window_longer_than_its_period() -> None:
    """Daily at 22:00 for 36h: the window from the day before still holds; the latest end wins."""
    nightly = Freeze.model_validate({"cron": "0 22 * * *", "duration": "36h", "reason": "r"})
    found = frozen([nightly], "web", utc(2026, 5, 2, 23))
    assert found is not None
    assert found.windows[0].start == utc(2026, 5, 2, 22)
    assert found.reasons == ("r",)
    assert found.until > utc(2026, 6, 1)  # always frozen: the chain stops after many windows


def test_minutes_durations() -> None:
    """1h30m after Monday 09:00 UTC is 10:30."""
    freeze = Freeze.model_validate({"cron": "0 9 * * MON", "duration": "1h30m", "reason": "r"})
    assert frozen([freeze], "web", utc(2026, 12, 7, 10, 29)) is not None
    assert frozen([freeze], "web", utc(2026, 12, 7, 10, 30)) is None


def test_upcoming_lists_what_holds_now_then_what_starts_soon() -> None:
    """On Wed 23 Dec: the holidays (Thu) for web, then the weekend (Fri); docs sees no holidays."""
    at = utc(2026, 12, 23, 12)
    starts = [w.start for w in upcoming([HOLIDAYS, WEEKEND], at, app="web", limit=3)]
    assert starts == [utc(2026, 12, 24), utc(2026, 12, 25, 15), utc(2027, 1, 1, 15)]
    for_docs = upcoming([HOLIDAYS, WEEKEND], at, app="docs", within=timedelta(days=7))
    assert [w.reason for w in for_docs] == ["No deploys over the weekend"]
    during = upcoming([WEEKEND], utc(2026, 12, 5), limit=1)
    assert [(w.start, w.end) for w in during] == [(utc(2026, 12, 4, 15), utc(2026, 12, 7, 7))]


def test_a_dated_window_that_has_passed_is_not_upcoming() -> None:
    assert upcoming([HOLIDAYS], utc(2027, 1, 1)) == []


def test_toml_datetimes_and_offsets_are_accepted() -> None:
    """`start = 2026-12-24T01:00:00+01:00` (a TOML time) is the same instant as midnight UTC."""
    freeze = Freeze.model_validate(
        {"start": datetime.fromisoformat("2026-12-24T01:00:00+01:00"), "end": "2026-12-25T00:00Z"}
    )
    assert frozen([freeze], "any", utc(2026, 12, 24)) is not None
    assert freeze.apps == ("*",)


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ({"cron": "0 16 * * FRY", "duration": "1h"}, "'0 16 * * FRY' is not a cron expression"),
        ({"cron": "0 0 16 * * FRI", "duration": "1h"}, "is not a cron expression (5 fields"),
        ({"cron": "0 16 * * FRI"}, "a `cron` window needs a `duration`"),
        ({"cron": "0 16 * * FRI", "duration": "64 hours"}, "'64 hours' is not a duration"),
        ({"cron": "0 16 * * FRI", "duration": "0h"}, "'0h' is not a duration"),
        (
            {"cron": "0 16 * * FRI", "duration": "1h", "timezone": "Europe/Berln"},
            "unknown time zone 'Europe/Berln'",
        ),
        (
            {"cron": "0 16 * * FRI", "duration": "1h", "start": "2026-12-24T00:00:00Z"},
            "give `cron` (a recurring window) or `start` and `end`, not both",
        ),
        ({"start": "2026-12-24T00:00:00Z"}, "a dated window needs both `start` and `end`"),
        (
            {"start": "2026-12-27T00:00:00Z", "end": "2026-12-24T00:00:00Z"},
            "`end` must be after `start`",
        ),
        ({"start": "2026-12-24T00:00:00", "end": "2026-12-25T00:00:00Z"}, "has no UTC offset"),
        ({"start": "Christmas", "end": "2026-12-25T00:00:00Z"}, "'Christmas' is not a time"),
        ({"reason": "nothing else"}, "give `start` and `end` (a dated window), or `cron`"),
        ({"cron": "0 16 * * FRI", "duration": "1h", "apps": []}, "an empty list freezes nothing"),
        (
            {"cron": "0 16 * * FRI", "duration": "1h", "apps": ["*", "web"]},
            '"*" already means every app',
        ),
        (
            {"start": "2026-12-24T00:00Z", "end": "2026-12-25T00:00Z", "timezone": "UTC"},
            "`duration` and `timezone` are for `cron` windows",
        ),
        ({"cron": "0 16 * * FRI", "duration": "1h", "until": "x"}, "Extra inputs"),
    ],
)
def test_a_bad_freeze_is_refused_in_words(raw: dict[str, Any], problem: str) -> None:
    with pytest.raises(ValidationError) as raised:
        Freeze.model_validate(raw)
    assert problem in str(raised.value)


BERLIN = ZoneInfo("Europe/Berlin")


@settings(max_examples=300, deadline=None)
@given(
    st.datetimes(
        min_value=datetime(2026, 1, 1),
        max_value=datetime(2028, 12, 31),
        timezones=st.just(UTC),
    )
)
def test_the_weekend_window_matches_berlins_clock(at: datetime) -> None:
    """Any instant over three years, DST changes included: frozen exactly from Friday 16:00 to
    Monday 08:00 as a clock in Berlin shows it; and deploys resume at `until`, not before."""
    local = at.astimezone(BERLIN)
    minutes = local.hour * 60 + local.minute
    weekend = (
        (local.weekday() == 4 and minutes >= 16 * 60)
        or local.weekday() in (5, 6)
        or (local.weekday() == 0 and minutes < 8 * 60)
    )
    found = frozen([WEEKEND], "any", at)
    assert (found is not None) == weekend
    if found is not None:
        until = found.until.astimezone(BERLIN)
        assert (until.weekday(), until.hour, until.minute) == (0, 8, 0)
        assert frozen([WEEKEND], "any", found.until) is None
        assert frozen([WEEKEND], "any", found.until - timedelta(microseconds=1)) is not None
