"""Records for the DORA figures from the bot's rows and the provider's list. Pure."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.dora import Outcome, RecordKind, compute, records
from bot.models import Deployment, Kind, Status, Tracked

T0 = datetime(2026, 12, 1, 9, tzinfo=UTC)


def row(
    n: int,
    deployment_id: str | None,
    status: Status,
    *,
    minutes: float,
    took: float = 5,
    kind: Kind = Kind.DEPLOY,
) -> Tracked:
    created = T0 + timedelta(minutes=minutes)
    return Tracked(
        id=n,
        kind=kind,
        app="web",
        provider="nometria",
        deployment_id=deployment_id,
        channel="C0DEPLOYS",
        root_ts=f"{n}.0",
        requester="U0DEV",
        ref=None,
        status=status,
        approval=None,
        approved_by=None,
        prompt_ts=None,
        failing_since=None,
        outage_noticed=False,
        abandoned=False,
        created_at=created,
        updated_at=created + timedelta(minutes=took),
    )


def listed(deployment_id: str, status: Status, *, build: int | None = None) -> Deployment:
    return Deployment(
        id=deployment_id, status=status, build_seconds=build, created_at=T0 - timedelta(days=400)
    )


def test_a_deploy_live_when_a_rollback_is_asked_counts_as_rolled_back() -> None:
    """d1 live at +5m; the rollback asked at +60m, before any other deploy went live."""
    ours = [
        row(1, "d1", Status.LIVE, minutes=0),
        row(2, "d0", Status.LIVE, minutes=60, kind=Kind.ROLLBACK),
    ]
    theirs = [listed("d1", Status.READY, build=40), listed("d0", Status.LIVE)]
    found = {(r.id, r.kind): r for r in records("web", ours, theirs)}
    d1 = found[("d1", RecordKind.DEPLOY)]
    assert d1.outcome is Outcome.ROLLED_BACK
    assert d1.live_at == T0 + timedelta(minutes=5)  # when the bot saw it live, its own clock
    assert d1.finished_at == T0 + timedelta(minutes=60)
    assert d1.build_seconds == 40
    rollback = found[("d0", RecordKind.ROLLBACK)]
    assert rollback.outcome is Outcome.LIVE
    assert rollback.live_at == T0 + timedelta(minutes=65)
    assert ("d0", RecordKind.DEPLOY) not in found  # Nometria's rollback is a new deployment


def test_a_deploy_replaced_by_a_later_deploy_is_not_rolled_back() -> None:
    """Nometria's `rolled_back` of a superseded deploy: it went live, nothing more."""
    ours = [row(1, "d1", Status.LIVE, minutes=0), row(2, "d2", Status.LIVE, minutes=30)]
    theirs = [listed("d1", Status.ROLLED_BACK), listed("d2", Status.LIVE)]
    assert {r.id: r.outcome for r in records("web", ours, theirs)} == {
        "d1": Outcome.LIVE,
        "d2": Outcome.LIVE,
    }


def test_unfinished_and_never_triggered_rows_are_left_out() -> None:
    ours = [
        row(1, "d1", Status.BUILDING, minutes=0),
        row(2, None, Status.STOPPED, minutes=1),  # discarded before a trigger
        row(3, "d3", Status.FAILED, minutes=2, took=3),
    ]
    found = records("web", ours, [listed("d1", Status.BUILDING)])
    [failed] = found
    assert failed.id == "d3"
    assert failed.outcome is Outcome.FAILED
    assert failed.finished_at == T0 + timedelta(minutes=5)


def test_deployments_made_elsewhere_use_the_providers_times() -> None:
    theirs = [
        Deployment(
            id="x", status=Status.LIVE, created_at=T0, finished_at=T0 + timedelta(seconds=90)
        )
    ]
    [record] = records("web", [], theirs)
    assert record.requested_at == T0
    assert record.live_at == T0 + timedelta(seconds=90)
    assert record.build_seconds == 90


def test_a_restart_keeps_the_run_that_failed() -> None:
    """d1 failed at +5m, restarted at +20m and live at +25m: the provider now says live, yet
    the first run still counts as a failure then, and the restart's run as a change of its own."""
    ours = [
        row(1, "d1", Status.FAILED, minutes=0),
        row(2, "d1", Status.LIVE, minutes=20),  # the restart's run, in the same thread
    ]
    found = records("web", ours, [listed("d1", Status.LIVE, build=30)])
    assert [(r.outcome, r.requested_at, r.live_at, r.finished_at) for r in found] == [
        (Outcome.FAILED, T0, None, T0 + timedelta(minutes=5)),
        (Outcome.LIVE, T0 + timedelta(minutes=20), T0 + timedelta(minutes=25), None),
    ]
    assert [r.build_seconds for r in found] == [None, 30]
    stats = compute(found, now=T0 + timedelta(hours=1))
    assert (stats.change_failures, stats.changes, stats.went_live) == (1, 2, 1)
    assert stats.restores == (20 * 60,)


def test_a_restart_of_a_deployment_the_bot_did_not_follow_counts_its_failure() -> None:
    """Restarted at +10m (it had failed by then, or the provider would have refused), live at
    +15m; a second restart of the same one ran and failed too."""
    ours = [
        row(1, "d9", Status.FAILED, minutes=10, kind=Kind.RESTART),
        row(2, "d9", Status.LIVE, minutes=30, kind=Kind.RESTART),
    ]
    found = records("web", ours, [])
    assert [(r.outcome, r.requested_at) for r in found] == [
        (Outcome.FAILED, T0 + timedelta(minutes=10)),
        (Outcome.FAILED, T0 + timedelta(minutes=10)),
        (Outcome.LIVE, T0 + timedelta(minutes=30)),
    ]
    assert found[0].finished_at == T0 + timedelta(minutes=10)  # seen failed when restarted
    assert found[1].finished_at == T0 + timedelta(minutes=15)
