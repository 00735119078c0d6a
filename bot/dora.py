"""The records `bot.stats` counts, from the bot's rows and the provider's list. Pure."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from bot import models
from bot.models import Deployment, Status, Tracked
from bot.stats import Kind, Outcome, Record

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
    deploy that a rollback was asked for while it was live counts as rolled back then.
    """
    listed = {d.id: d for d in theirs}
    rollbacks = [r for r in ours if r.kind is models.Kind.ROLLBACK and r.deployment_id]
    deploys: dict[str, Tracked | None] = {}
    for row in sorted(ours, key=lambda r: r.id):
        if row.deployment_id and row.kind is not models.Kind.ROLLBACK:
            deploys.setdefault(row.deployment_id, row)
    rolled_back_ids = {r.deployment_id for r in rollbacks}
    for d in theirs:
        if d.id not in rolled_back_ids:
            deploys.setdefault(d.id, None)
    found = [_deploy(app, id_, row, listed.get(id_)) for id_, row in deploys.items()]
    found += [_rollback(app, row) for row in rollbacks]
    return _rolled_back([r for r in found if r is not None])


def _deploy(app: str, id_: str, row: Tracked | None, listed: Deployment | None) -> Record | None:
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
        kind=Kind.DEPLOY,
        outcome=outcome,
        requested_at=requested,
        live_at=live_at,
        finished_at=finished_at,
        build_seconds=_build(listed),
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
        kind=Kind.ROLLBACK,
        outcome=outcome,
        requested_at=row.created_at,
        live_at=live_at,
        finished_at=finished_at,
    )


def _build(listed: Deployment | None) -> int | None:
    if listed is None or listed.build_seconds is not None:
        return listed.build_seconds if listed else None
    if listed.created_at and listed.finished_at:
        return int((listed.finished_at - listed.created_at).total_seconds())
    return None


def _rolled_back(found: list[Record]) -> list[Record]:
    """A deploy live when a rollback was asked for (before the next deploy went live)."""
    asked = sorted(r.requested_at for r in found if r.kind is Kind.ROLLBACK)
    lives = sorted(r.live_at for r in found if r.kind is Kind.DEPLOY and r.live_at is not None)
    out = []
    for r in found:
        if r.kind is Kind.DEPLOY and r.live_at is not None:
            live_at = r.live_at
            ends = [t for t in lives if t > live_at]
            rollback = next((t for t in asked if t > live_at), None)
            if rollback is not None and (not ends or rollback < ends[0]):
                r = replace(r, outcome=Outcome.ROLLED_BACK, finished_at=rollback)  # noqa: PLW2901
        out.append(r)
    return out
