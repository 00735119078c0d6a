"""Which deliveries a batch of queued messages needs: edits of one message merge."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, TypeVar

from bot.outbox.table import Way


class Queued(Protocol):
    id: int
    kind: str
    target_ts: str | None


Q = TypeVar("Q", bound=Queued)


def merged(batch: Sequence[Q]) -> list[tuple[Q, list[int]]]:
    """Edits of one message collapse into the newest, sent where the first stood: one
    chat.update for a root that changed three times while it waited for its turn."""
    plan: list[tuple[Q, list[int]]] = []
    edits: dict[str | None, int] = {}
    for row in batch:
        if row.kind == Way.UPDATE and row.target_ts in edits:
            place = edits[row.target_ts]
            plan[place] = (row, [*plan[place][1], row.id])
            continue
        if row.kind == Way.UPDATE:
            edits[row.target_ts] = len(plan)
        plan.append((row, [row.id]))
    return plan
