"""The freeze lines, `/deploy history` and `/deploy stats` messages, as Slack receives them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from slack_sdk.models.blocks import Block

from bot.config.freezes import Freeze
from bot.dora import Stats
from bot.models import Deployment, Kind, Status, Tracked
from bot.mrkdwn import escape
from bot.render import history_blocks, home_blocks
from bot.render.blocks import state_words
from bot.render.home_blocks import HistoryRow, freeze_context, freeze_lines, merge_history

NOW = datetime(2026, 12, 23, 12, tzinfo=UTC)  # a Wednesday
HOLIDAYS = Freeze.model_validate(
    {
        "apps": ["web"],
        "start": "2026-12-24T00:00:00Z",
        "end": "2026-12-28T08:00:00Z",
        "reason": "Holidays <all> & more",
    }
)
WEEKEND = Freeze.model_validate(
    {"cron": "0 16 * * FRI", "duration": "64h", "timezone": "Europe/Berlin", "reason": "Weekend"}
)


def dicts(blocks: list[Block]) -> list[dict[str, Any]]:
    return [b.to_dict() for b in blocks]


def mrkdwn(text: str) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": text}


def test_escape_leaves_no_markup() -> None:
    assert escape("<!channel> & <@U1>") == "&lt;!channel&gt; &amp; &lt;@U1&gt;"


def test_freeze_lines_now_and_next() -> None:
    """Frozen until Mon 28 Dec 08:00 UTC (reason escaped); then two weekends, on Berlin's clock."""
    during = NOW + timedelta(days=1)
    assert freeze_lines([HOLIDAYS, WEEKEND], "web", now=during) == [
        ":cold_face: Frozen until Mon 28 Dec 08:00 UTC: Holidays &lt;all&gt; &amp; more",
        ":calendar: Freeze from Fri 25 Dec 16:00 CET to Mon 28 Dec 08:00 CET: Weekend",
        ":calendar: Freeze from Fri 1 Jan 2027 16:00 CET to Mon 4 Jan 2027 08:00 CET: Weekend",
    ]


def test_freeze_lines_while_two_freezes_hold() -> None:
    """On Saturday both hold: both reasons (escaped), the latest end, no weekend listed twice."""
    saturday = datetime(2026, 12, 26, 12, tzinfo=UTC)
    assert freeze_lines([WEEKEND, HOLIDAYS], "web", now=saturday, soon=1) == [
        ":cold_face: Frozen until Mon 28 Dec 08:00 UTC: Holidays &lt;all&gt; &amp; more; Weekend",
        ":calendar: Freeze from Fri 1 Jan 2027 16:00 CET to Mon 4 Jan 2027 08:00 CET: Weekend",
    ]


def test_an_app_not_listed_sees_only_its_freezes() -> None:
    assert freeze_lines([HOLIDAYS], "docs", now=NOW) == []
    assert freeze_context([HOLIDAYS], "docs", now=NOW) is None


def test_freeze_context_block() -> None:
    block = freeze_context([HOLIDAYS], "web", now=NOW)
    assert block is not None
    assert block.to_dict() == {
        "type": "context",
        "elements": [
            mrkdwn(
                ":calendar: Freeze from Thu 24 Dec 00:00 UTC to Mon 28 Dec 08:00 UTC: "
                "Holidays &lt;all&gt; &amp; more"
            )
        ],
    }


def test_history_merges_ours_with_the_providers() -> None:
    """Provider rows get who asked from ours; our never-started row stays; old ones fell off."""
    ours = [
        HistoryRow(id="d2", status=Status.BUILDING, when=NOW, ref="main", who="U1"),
        HistoryRow(id="d1", status=Status.LIVE, when=NOW, who="U2", rollback=True),
        HistoryRow(id=None, status=Status.STOPPED, when=NOW - timedelta(minutes=30), who="U3"),
        HistoryRow(id="d0", status=Status.LIVE, when=NOW - timedelta(days=9), who="U4"),
    ]
    theirs = [
        Deployment(
            id="d2",
            status=Status.LIVE,
            created_at=NOW - timedelta(hours=1),
            build_seconds=95,
        ),
        Deployment(
            id="d1",
            status=Status.ROLLED_BACK,
            ref="a1b2c3d",
            created_at=NOW - timedelta(hours=3),
            finished_at=NOW - timedelta(hours=3) + timedelta(seconds=40),
        ),
        Deployment(
            id="dx", status=Status.FAILED, ref="feat/<x>", created_at=NOW - timedelta(days=2)
        ),
    ]
    rows = merge_history(ours, theirs)
    assert [(r.id, r.status, r.who, r.ref, r.seconds) for r in rows] == [
        (None, Status.STOPPED, "U3", None, None),
        ("d2", Status.LIVE, "U1", "main", 95),
        ("d1", Status.ROLLED_BACK, "U2", "a1b2c3d", 40),
        ("dx", Status.FAILED, None, "feat/<x>", None),
    ]
    assert dicts(home_blocks.history_list("web", rows, now=NOW)) == [
        {
            "type": "section",
            "text": mrkdwn(
                "*web*: the last 4 deployments, newest first\n"
                ":octagonal_sign: _not started_ · stopped · by <@U3> · 30m ago\n"
                ":white_check_mark: `d2` · `main` · live · by <@U1> · 1h ago · took 1m 35s\n"
                ":ballot_box_with_check: rollback to `d1` · `a1b2c3d` · was live · by <@U2>"
                " · 3h ago · took 40s\n"
                ":x: `dx` · `feat/&lt;x&gt;` · failed · started outside Slack · 2d ago"
            ),
        }
    ]


def _tracked(n: int, dep: str, status: Status, kind: Kind, *, ago: int, took: int) -> Tracked:
    """Row `n`, asked `ago` minutes before NOW, its last change `took` seconds later."""
    asked = NOW - timedelta(minutes=ago)
    return Tracked(
        id=n,
        kind=kind,
        app="web",
        provider="stormkit",
        deployment_id=dep,
        channel="C1",
        root_ts="1.0",
        requester="U1",
        ref="main",
        status=status,
        approval=None,
        approved_by=None,
        prompt_ts=None,
        failing_since=None,
        outage_noticed=False,
        abandoned=False,
        created_at=asked,
        updated_at=asked + timedelta(seconds=took),
    )


def test_a_rollback_and_a_restart_are_lines_of_their_own_when_they_happened() -> None:
    """A rollback that published d0 again: its own line, asked 2m ago, 6s to go live; d0 keeps
    its age. d1 failed 30m ago, was restarted 10m ago and is built again: two lines, each dated."""
    found = [  # newest first, as the store reads them
        _tracked(3, "d0", Status.LIVE, Kind.ROLLBACK, ago=2, took=6),
        _tracked(2, "d1", Status.LIVE, Kind.DEPLOY, ago=10, took=20),
        _tracked(1, "d1", Status.FAILED, Kind.DEPLOY, ago=30, took=45),
    ]
    theirs = [
        Deployment(id="d1", status=Status.READY, created_at=NOW - timedelta(minutes=30)),
        Deployment(
            id="d0", status=Status.LIVE, created_at=NOW - timedelta(hours=5), build_seconds=70
        ),
    ]
    ours = home_blocks.history_rows(found, rollback_redeploys=False)
    rows = merge_history(ours, theirs)
    [text] = [b["text"]["text"] for b in dicts(home_blocks.history_list("web", rows, now=NOW))]
    assert text.splitlines()[1:] == [
        ":white_check_mark: rollback to `d0` · `main` · went live · by <@U1> · 2m ago · took 6s",
        ":package: restart of `d1` · `main` · ready · by <@U1> · 10m ago",
        ":x: `d1` · `main` · failed · by <@U1> · 30m ago · took 45s",
        ":white_check_mark: `d0` · live · started outside Slack · 5h ago · took 1m 10s",
    ]
    # Where a rollback is a new deployment (Nometria), the provider's entry is the rollback.
    redeployed = home_blocks.history_rows(found[:1], rollback_redeploys=True)
    [merged] = merge_history(redeployed, theirs[1:])
    assert (merged.rollback, merged.who, merged.seconds) == (True, "U1", 70)


def test_an_empty_history() -> None:
    assert dicts(home_blocks.history_list("web", [], now=NOW)) == [
        {"type": "section", "text": mrkdwn("*web*: no deployments yet.")}
    ]


def test_a_long_history_fits_slacks_limits() -> None:
    """200 rows with 60-character refs: sections under 3,000 characters, at most 50 blocks."""
    rows = [
        HistoryRow(id=f"d{i}", status=Status.LIVE, when=NOW, ref="r" * 200, who="U1")
        for i in range(200)
    ]
    blocks = home_blocks.history_list("web", rows, now=NOW)
    texts = [b.to_dict()["text"]["text"] for b in blocks]  # to_dict() validates the limits
    assert 1 < len(blocks) <= 50
    assert all(len(text) <= 3000 for text in texts)
    assert sum(text.count("`d") for text in texts) == 200


def test_stats_message() -> None:
    """Figures from a worked history: 4 of 6 failed, restores 2m and 1d 10m, builds 150 s."""
    figures = Stats(
        days=30,
        requested=8,
        went_live=3,
        changes=6,
        change_failures=4,
        restores=(120.0, 87000.0),
        still_down=1,
        build_seconds=(60, 120, 180, 600),
    )
    assert dicts(home_blocks.stats("we<b", figures)) == [
        {"type": "section", "text": mrkdwn(":bar_chart: *we&lt;b* over the last 30 days")},
        {
            "type": "section",
            "fields": [
                mrkdwn("*Deployment frequency*\n0.7 a week (3 in 30 days)"),
                mrkdwn("*Change failure rate*\n67% (4 of 6)"),
                mrkdwn(
                    "*Time to restore*\n12h 6m (median of 2); the last failure is not restored yet"
                ),
                mrkdwn("*Median build time*\n2m 30s"),
            ],
        },
    ]


def test_stats_of_a_quiet_window() -> None:
    empty = Stats(
        days=7,
        requested=0,
        went_live=0,
        changes=0,
        change_failures=0,
        restores=(),
        still_down=0,
        build_seconds=(),
    )
    assert dicts(home_blocks.stats("web", empty)) == [
        {"type": "section", "text": mrkdwn("No deployments of *web* in the last 7 days.")}
    ]


def test_stats_with_nothing_finished() -> None:
    """One deploy still building: no rate, no restore, no build time, said in words."""
    building = Stats(
        days=30,
        requested=1,
        went_live=0,
        changes=0,
        change_failures=0,
        restores=(),
        still_down=0,
        build_seconds=(),
    )
    fields = dicts(home_blocks.stats("web", building))[1]["fields"]
    assert [f["text"].split("\n")[1] for f in fields] == [
        "no deployments went live in the last 30 days",
        "no deploy finished",
        "no failures or rollbacks",
        "no build times reported",
    ]


@pytest.mark.parametrize(
    ("status", "discarded", "awaiting", "word"),
    [
        (Status.ROLLED_BACK, False, False, "was live"),
        (Status.READY, True, False, "discarded"),
        (Status.READY, False, True, "waiting for approval"),
        (Status.LIVE, False, False, "live"),
        (Status.FAILED, False, False, "failed"),
    ],
)
def test_history_and_status_say_one_word_for_a_state(
    status: Status, discarded: bool, awaiting: bool, word: str
) -> None:
    """`/deploy history` (and the Home tab) and `/deploy status` name a deployment's state alike:
    a replaced one "was live" in both, never "rolled back" in one of them."""
    deployment = Deployment(id="d1", status=status, created_at=NOW - timedelta(hours=1))
    row = HistoryRow(
        id="d1", status=status, when=deployment.created_at, discarded=discarded, awaiting=awaiting
    )
    [history] = dicts(home_blocks.history_list("web", [row], now=NOW))
    label = state_words(status, discarded=discarded, awaiting=awaiting)
    status_message = history_blocks.status_message(
        "web", [deployment], labels={"d1": label}, notes={}, now=NOW, lock=None, audit=[]
    )
    [status_text] = [b["text"]["text"] for b in status_message.to_dicts()]
    assert label == word
    assert f"· {word} ·" in history["text"]["text"]
    assert f" {word}: `d1`" in status_text
    assert "rolled back" not in history["text"]["text"] + status_text
