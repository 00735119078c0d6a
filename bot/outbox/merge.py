"""Which deliveries a batch of queued messages needs: edits of one message merge."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, TypeVar

from bot.outbox.table import Way


class Queued(Protocol):
    id: int
    channel: str
    kind: str
    target_ts: str | None


Q = TypeVar("Q", bound=Queued)


def merged(batch: Sequence[Q]) -> list[tuple[Q, list[int]]]:
    """Edits of one message collapse into the newest, sent where the newest stood: one
    chat.update for a root that changed three times while it waited for its turn, and no
    reply queued after the first of them waits behind it."""
    covers: dict[tuple[str, str | None], list[int]] = {}
    for row in batch:
        if row.kind == Way.UPDATE:
            covers.setdefault((row.channel, row.target_ts), []).append(row.id)
    plan: list[tuple[Q, list[int]]] = []
    for row in batch:
        if row.kind != Way.UPDATE:
            plan.append((row, [row.id]))
        elif (merged := covers[(row.channel, row.target_ts)])[-1] == row.id:
            plan.append((row, merged))
    return plan
