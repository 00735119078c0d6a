"""The database connection the store and the outbox share: one engine, one declarative base."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
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


class Database:
    def __init__(self, url: str) -> None:
        self.engine: AsyncEngine = create_async_engine(async_url(url))
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
        self.session = async_sessionmaker(self.engine, expire_on_commit=False)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """One transaction several owners write in (a status change and its messages)."""
        async with self.session.begin() as session:
            yield session

    async def close(self) -> None:
        await self.engine.dispose()
        if self.engine.dialect.name == "sqlite":
            await asyncio.to_thread(_join_sqlite_workers)

    async def ping(self) -> bool:
        async with self.session() as session:
            await session.execute(select(1))
        return True


def _join_sqlite_workers(within: float = 5.0) -> None:
    """Wait for aiosqlite's worker threads to end while the event loop is still open.

    A connection that failed to open (a missing directory) is stopped without waiting for its
    thread, which then reports to a closed loop and prints a traceback at exit
    (omnilib/aiosqlite#241, #389).
    """
    for thread in threading.enumerate():
        if thread.name.endswith("(_connection_worker_thread)"):
            thread.join(within)
