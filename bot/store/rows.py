"""Tracked rows read as frozen values, and written (`Rows`: made, inserted, changed) under this
replica's lease: what every part of the Store that writes a deployment's row shares."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from sqlalchemy import ColumnElement, or_, update
from sqlalchemy.exc import IntegrityError

from bot.models import Approval, Clock, Kind, Status, Tracked
from bot.sealed import Sealer
from bot.store.db import Also, Database, aware
from bot.store.tables import TrackedRow

_FINISHED = [s.value for s in Status if s.finished]


def tracked(row: TrackedRow) -> Tracked:
    return Tracked(
        id=row.id,
        kind=Kind(row.kind),
        app=row.app,
        provider=row.provider,
        deployment_id=row.deployment_id,
        channel=row.channel,
        root_ts=row.root_ts,
        requester=row.requester,
        ref=row.ref,
        status=Status(row.status),
        approval=Approval(row.approval) if row.approval else None,
        approved_by=row.approved_by,
        prompt_ts=row.prompt_ts,
        failing_since=aware(row.failing_since) if row.failing_since else None,
        outage_noticed=row.outage_noticed,
        abandoned=row.abandoned,
        created_at=aware(row.created_at),
        env=dict(row.env or {}),
        waiting=row.waiting,
        forced=row.forced,
        updated_at=aware(row.updated_at),
        holds_app=row.holds_app,
        triggered_at=aware(row.triggered_at) if row.triggered_at else None,
        default_ref=row.default_ref,
    )


IN_FLIGHT = (
    TrackedRow.status.not_in(_FINISHED),
    TrackedRow.deployment_id.is_not(None),
    TrackedRow.abandoned.is_(False),
)


class Rows:
    """A deployment's row made, inserted and changed (compare-and-set), held by this replica
    (`owner`) for one lease; its overrides sealed, never plain text in the store."""

    def __init__(
        self, db: Database, *, clock: Clock, owner: str, lease: timedelta, sealer: Sealer
    ) -> None:
        self._db = db
        self._now = clock
        self._sealer = sealer
        self.owner = owner  # the replica that polls what it tracks, until its lease runs out
        self.lease = lease

    def new(
        self,
        kind: Kind,
        status: Status,
        approval: Approval | None,
        env: Mapping[str, str] | None,
        **fields: Any,
    ) -> TrackedRow:
        """A row to insert, held by this replica for one lease."""
        now = self._now()
        return TrackedRow(
            kind=kind.value,
            status=status.value,
            approval=approval.value if approval else None,
            env=self._sealer.seal(env or {}),  # never plain text in the store
            owner=self.owner,
            lease_until=now + self.lease,
            created_at=now,
            updated_at=now,
            holds_app=False,
            triggered_at=now if fields.get("deployment_id") is not None else None,
            **fields,
        )

    async def insert(self, row: TrackedRow) -> Tracked | None:
        """Insert a row; None if it would hold an app another row holds."""
        try:
            async with self._db.transaction() as session:
                session.add(row)
        except IntegrityError:
            if not row.holds_app:
                raise
            return None
        return tracked(row)

    async def change(
        self,
        row_id: int,
        expected: dict[str, Any],
        values: dict[str, Any],
        also: Also | None = None,
    ) -> bool:
        """Write `values` if the row still has the `expected` ones (and `also`, in the same
        transaction): True if this caller won the change."""
        conditions = [getattr(TrackedRow, key) == value for key, value in expected.items()]
        async with self._db.transaction() as session:
            result = await session.execute(
                update(TrackedRow)
                .where(TrackedRow.id == row_id, *conditions)
                .values(**values, updated_at=self._now())
            )
            won = bool(getattr(result, "rowcount", 0) == 1)
            if won and also is not None:
                also(session)
            return won

    def leased(self) -> dict[str, Any]:
        """The values that hold a row for this replica, one lease from now."""
        return {"owner": self.owner, "lease_until": self._now() + self.lease}

    def unheld(self) -> ColumnElement[bool]:
        """No live replica holds the row (none ever did, or its lease ran out)."""
        return or_(TrackedRow.owner.is_(None), TrackedRow.lease_until < self._now())
