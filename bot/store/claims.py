"""One-time keys (`Claims`, a part of the Store): what guards against doing a thing twice."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError

from bot.models import Clock
from bot.store.db import Database
from bot.store.tables import Claim


class Claims:
    """A key taken once, across replicas: the first to take it does the thing it guards."""

    def __init__(self, db: Database, *, clock: Clock) -> None:
        self._db = db
        self._now = clock

    async def take(self, key: str) -> bool:
        """True for the first to take `key`; False if it was taken already."""
        try:
            async with self._db.transaction() as session:
                session.add(Claim(key=key, created_at=self._now()))
        except IntegrityError:
            return False
        return True

    async def give_back(self, key: str) -> None:
        """Give a key back when the thing it guarded certainly did not happen."""
        async with self._db.transaction() as session:
            await session.execute(delete(Claim).where(Claim.key == key))

    async def prune(self, *, before: datetime) -> None:
        """Forget what only guarded against repeats, once it is old."""
        async with self._db.transaction() as session:
            await session.execute(delete(Claim).where(Claim.created_at < before))
