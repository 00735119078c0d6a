"""The database connection the store and the outbox share: one engine, one declarative base."""

from __future__ import annotations

import asyncio
import threading
import weakref
from collections import deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase

# Work to do in the same transaction as a change (queue a message, release a slot).
Also = Callable[[AsyncSession], None]


class Base(DeclarativeBase):
    pass


def aware(moment: datetime) -> datetime:
    """SQLite gives datetimes back without their zone; everything is written in UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def async_url(url: str) -> str:
    """Operators write plain SQLAlchemy URLs; the bot needs the asyncio driver for each."""
    drivers = (("sqlite://", "sqlite+aiosqlite://"), ("postgresql://", "postgresql+psycopg://"))
    for plain, driver in drivers:
        if url.startswith(plain):
            return driver + url.removeprefix(plain)
    return url


def _sqlite_pragmas(connection: Any, _: Any) -> None:
    """WAL lets readers work beside the writer; a busy timeout waits instead of failing."""
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


class Turns:
    """SQLite's one writer, taken in turn by this process's transactions: those asking to go
    `first` before the others, each kind in the order it came.

    Left to itself, a writer that finds SQLite's lock taken polls in its busy handler, sleeping
    up to 100 ms between looks while the lock may be free again within a millisecond: profiles
    of many status changes at once showed the store's threads mostly asleep there. Here each
    turn is handed to the next writer the moment the one before commits.
    """

    def __init__(self) -> None:
        self._taken = False
        self._first: deque[asyncio.Future[None]] = deque()
        self._rest: deque[asyncio.Future[None]] = deque()

    @asynccontextmanager
    async def turn(self, *, first: bool) -> AsyncIterator[None]:
        if self._taken:
            handed = asyncio.get_running_loop().create_future()
            waiting = self._first if first else self._rest
            waiting.append(handed)
            try:
                await handed
            except asyncio.CancelledError:
                if handed.done() and not handed.cancelled():
                    self._hand_on()  # given the turn as it was cancelled: pass it on
                else:
                    waiting.remove(handed)
                raise
        self._taken = True
        try:
            yield
        finally:
            self._hand_on()

    def _hand_on(self) -> None:
        for waiting in (self._first, self._rest):
            while waiting:
                handed = waiting.popleft()
                if not handed.done():
                    handed.set_result(None)  # still taken: the turn passes straight on
                    return
        self._taken = False


class Database:
    def __init__(self, url: str) -> None:
        self.engine: AsyncEngine = create_async_engine(async_url(url))
        self._turns: Turns | None = None  # PostgreSQL writes rows in parallel
        # aiosqlite's worker threads of this database's connections (_join_sqlite_workers)
        self._workers: weakref.WeakSet[threading.Thread] = weakref.WeakSet()
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
            event.listen(self.engine.sync_engine, "connect", self._note_worker)
            self._turns = Turns()
            _open_sqlite.add(self)
        self.session = async_sessionmaker(self.engine, expire_on_commit=False)

    @asynccontextmanager
    async def transaction(self, *, first: bool = False) -> AsyncIterator[AsyncSession]:
        """One transaction several owners write in (a status change and its messages).

        `first`: on SQLite, ahead of the writers waiting without it (the poller's leases and
        status changes, which a whole tick waits for, before messages being delivered).
        """
        async with self._turn(first), self.session.begin() as session:
            yield session

    @asynccontextmanager
    async def _turn(self, first: bool) -> AsyncIterator[None]:
        if self._turns is None:
            yield
            return
        async with self._turns.turn(first=first):
            yield

    def _note_worker(self, _: Any, record: Any) -> None:
        worker = getattr(record.driver_connection, "_thread", None)
        if isinstance(worker, threading.Thread):
            self._workers.add(worker)

    async def close(self) -> None:
        await self.engine.dispose()
        if self.engine.dialect.name == "sqlite":
            _open_sqlite.discard(self)
            in_use = {worker for db in _open_sqlite for worker in db._workers}
            await asyncio.to_thread(_join_sqlite_workers, in_use)

    async def ping(self) -> bool:
        async with self.session() as session:
            await session.execute(select(1))
        return True


#: SQLite databases of this process not yet closed (tests and benchmarks open several).
_open_sqlite: weakref.WeakSet[Database] = weakref.WeakSet()


def _join_sqlite_workers(in_use: set[threading.Thread], within: float = 5.0) -> None:
    """Wait for aiosqlite's worker threads to end while the event loop is still open.

    A connection that failed to open (a missing directory) is stopped without waiting for its
    thread, which then reports to a closed loop and prints a traceback at exit
    (omnilib/aiosqlite#241, #389). Such a thread belongs to no open database; the threads of
    another database still open (`in_use`) never end, and waiting for them cost `within` each.
    """
    for thread in threading.enumerate():
        if thread.name.endswith("(_connection_worker_thread)") and thread not in in_use:
            thread.join(within)
