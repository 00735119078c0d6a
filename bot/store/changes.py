"""Status changes written together: a group commit of compare-and-sets (a part of the Store).

A poll that finds many deployments changed at once (every build of a release going live) used
to write each change in its own transaction; on SQLite, one writer at a time, they queued in its
busy handler. Here the changes that arrive within a few milliseconds of each other, or while the
previous group is being written, go in one transaction. Each row keeps its own compare-and-set
(`WHERE id IN (...) AND status = expected ... RETURNING id`): only a row whose status was still the
expected one wins, and only the winners' messages are written, in that same transaction.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Hashable
from dataclasses import dataclass, field

from sqlalchemy import update

from bot.models import Clock
from bot.store.db import Also, Database
from bot.store.tables import TrackedRow

log = logging.getLogger(__name__)

# What else to write in the transaction that wins a change (the messages about it).
Values = tuple[tuple[str, Hashable], ...]
# How long the first change of a group waits for others: polls answered together land within it.
WINDOW = 0.005


def _future() -> asyncio.Future[bool]:
    return asyncio.get_running_loop().create_future()


@dataclass
class _Change:
    row_id: int
    expected: str
    values: Values
    also: Also
    won: asyncio.Future[bool] = field(default_factory=_future)


class GroupCommit:
    """Compare-and-sets of status changes, written a group at a time."""

    def __init__(self, db: Database, *, clock: Clock, window: float | None = None) -> None:
        self._db = db
        self._now = clock
        self._window = WINDOW if window is None else window
        self._pending: list[_Change] = []
        self._writer: asyncio.Task[None] | None = None

    async def change(self, row_id: int, *, expected: str, values: Values, also: Also) -> bool:
        """Set `values` on the row if its status is still `expected`, with `also`: True if won."""
        change = _Change(row_id, expected, values, also)
        self._pending.append(change)
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_groups())
        return await change.won

    async def _write_groups(self) -> None:
        group: list[_Change] = []
        try:
            await asyncio.sleep(self._window)
            while self._pending:
                group, self._pending = self._pending, []
                outcomes = await self._outcomes(group)
                for change, outcome in zip(group, outcomes, strict=True):
                    _settle(change.won, outcome)
        finally:  # cancelled (shutting down): no caller waits forever
            for change in [*group, *self._pending]:
                change.won.cancel()

    async def _outcomes(self, group: list[_Change]) -> list[bool | Exception]:
        """Whether each change was won, or why it could not be written (raised to its caller)."""
        try:
            won: list[bool | Exception] = [*await self._write(group)]
        except Exception as exc:  # noqa: BLE001 - each caller gets it raised
            if len(group) == 1:
                return [exc]
            # One change that cannot be written must not hold back the others.
            log.warning("%d status changes could not be written together: %s", len(group), exc)
        else:
            return won
        return [outcome for change in group for outcome in await self._outcomes([change])]

    async def _write(self, group: list[_Change]) -> list[bool]:
        """One transaction: one compare-and-set statement per kind of change, per round (a row
        changed twice in one group is changed in two rounds, the second seeing the first)."""
        won: dict[int, bool] = {}
        async with self._db.transaction(first=True) as session:
            for round_ in _rounds(group):
                kinds: defaultdict[tuple[str, Values], list[_Change]] = defaultdict(list)
                for change in round_:
                    kinds[change.expected, change.values].append(change)
                for (expected, values), changes in kinds.items():
                    ids = sorted(change.row_id for change in changes)
                    result = await session.scalars(
                        update(TrackedRow)
                        .where(TrackedRow.id.in_(ids), TrackedRow.status == expected)
                        .values({**dict(values), "updated_at": self._now()})
                        .returning(TrackedRow.id),
                        execution_options={"synchronize_session": False},
                    )
                    changed = set(result)
                    for change in changes:
                        won[id(change)] = change.row_id in changed
                        if won[id(change)]:
                            change.also(session)
        return [won[id(change)] for change in group]


def _rounds(group: list[_Change]) -> list[list[_Change]]:
    """Split a group so that each round changes a row at most once, in the order they came."""
    rounds: list[list[_Change]] = []
    seen: list[set[int]] = []
    for change in group:
        n = next((i for i, ids in enumerate(seen) if change.row_id not in ids), len(rounds))
        if n == len(rounds):
            rounds.append([])
            seen.append(set())
        rounds[n].append(change)
        seen[n].add(change.row_id)
    return rounds


def _settle(future: asyncio.Future[bool], outcome: bool | Exception) -> None:
    if future.done():  # its caller was cancelled
        return
    if isinstance(outcome, Exception):
        future.set_exception(outcome)
    else:
        future.set_result(outcome)
