"""Tracked deployments, locks, claims and the audit log, in SQLAlchemy (SQLite or PostgreSQL)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Index, String, Text, delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from bot.models import Status

_FINISHED = [s.value for s in Status if s.finished]


def _now() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    pass


class Tracked(Base):
    """A deployment the bot started (or waits to start) and follows in a thread."""

    __tablename__ = "deployments"
    # Not unique: a rollback on Stormkit publishes (and follows) an older deployment again.
    __table_args__ = (Index("ix_deployments_app_deployment", "app", "deployment_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), default="deploy")
    app: Mapped[str] = mapped_column(String(100))
    provider: Mapped[str] = mapped_column(String(30))
    # None while a Nometria deploy waits for its approval: nothing is triggered before.
    deployment_id: Mapped[str | None] = mapped_column(String(100))
    channel: Mapped[str] = mapped_column(String(30))
    root_ts: Mapped[str] = mapped_column(String(30))
    requester: Mapped[str] = mapped_column(String(30))
    ref: Mapped[str | None] = mapped_column(String(255))
    env: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(20))
    approval: Mapped[str | None] = mapped_column(String(20))  # pending, approved, discarded
    approved_by: Mapped[str | None] = mapped_column(String(30))
    prompt_ts: Mapped[str | None] = mapped_column(String(30))
    created_at: Mapped[datetime] = mapped_column(default=_now)
    updated_at: Mapped[datetime] = mapped_column(default=_now, onupdate=_now)

    @property
    def state(self) -> Status:
        return Status(self.status)


class Lock(Base):
    __tablename__ = "locks"

    app: Mapped[str] = mapped_column(String(100), primary_key=True)
    reason: Mapped[str] = mapped_column(Text)
    locked_by: Mapped[str] = mapped_column(String(30))
    channel: Mapped[str] = mapped_column(String(30))
    created_at: Mapped[datetime] = mapped_column(default=_now)


class Claim(Base):
    """A one-time key: the first to insert it does the thing, everyone after is a duplicate."""

    __tablename__ = "claims"

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=_now)


class Audit(Base):
    __tablename__ = "audit"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=_now)
    user: Mapped[str] = mapped_column(String(30))
    action: Mapped[str] = mapped_column(String(30))
    app: Mapped[str | None] = mapped_column(String(100))
    deployment_id: Mapped[str | None] = mapped_column(String(100))
    channel: Mapped[str] = mapped_column(String(30))
    outcome: Mapped[str] = mapped_column(String(20))
    detail: Mapped[str] = mapped_column(Text, default="")


def async_url(url: str) -> str:
    """Operators write plain SQLAlchemy URLs; the bot needs the asyncio driver for each."""
    drivers = (("sqlite://", "sqlite+aiosqlite://"), ("postgresql://", "postgresql+psycopg://"))
    for plain, driver in drivers:
        if url.startswith(plain):
            return driver + url.removeprefix(plain)
    return url


class Store:
    def __init__(self, url: str) -> None:
        self.engine: AsyncEngine = create_async_engine(async_url(url))
        self._session = async_sessionmaker(self.engine, expire_on_commit=False)

    async def create_schema(self) -> None:
        async with self.engine.begin() as conn:
            await conn.run_sync(Base.metadata.create_all)

    async def close(self) -> None:
        await self.engine.dispose()

    async def ping(self) -> bool:
        async with self._session() as session:
            await session.execute(select(1))
        return True

    async def track(self, **fields: Any) -> Tracked:
        row = Tracked(**fields)
        async with self._session.begin() as session:
            session.add(row)
        return row

    async def get(self, row_id: int) -> Tracked | None:
        async with self._session() as session:
            return await session.get(Tracked, row_id)

    async def find(self, app: str, deployment_id: str) -> Tracked | None:
        """The newest row that follows this deployment."""
        async with self._session() as session:
            return await session.scalar(
                select(Tracked)
                .where(Tracked.app == app, Tracked.deployment_id == deployment_id)
                .order_by(Tracked.id.desc())
                .limit(1)
            )

    async def rows_for(self, app: str, deployment_ids: Sequence[str]) -> dict[str, Tracked]:
        """The first row that followed each of these deployments (who asked, how it ended)."""
        async with self._session() as session:
            rows = await session.scalars(
                select(Tracked)
                .where(Tracked.app == app, Tracked.deployment_id.in_(deployment_ids))
                .order_by(Tracked.id.desc())
            )
            return {str(row.deployment_id): row for row in rows}

    async def in_flight(self) -> list[Tracked]:
        async with self._session() as session:
            rows = await session.scalars(
                select(Tracked)
                .where(Tracked.status.not_in(_FINISHED), Tracked.deployment_id.is_not(None))
                .order_by(Tracked.id)
            )
            return list(rows)

    async def advance(self, row_id: int, *, expected: Status, new: Status) -> bool:
        """Compare-and-set the status: only one caller wins a change, and only it announces."""
        return await self._set(row_id, {"status": expected.value}, status=new.value)

    async def decide(self, row_id: int, *, decision: str, user: str) -> bool:
        """Settle a pending approval once: a second click, or a concurrent one, gets False."""
        return await self._set(row_id, {"approval": "pending"}, approval=decision, approved_by=user)

    async def reopen(self, row_id: int, *, decision: str) -> None:
        """Undo a decision whose action failed, so someone can try again."""
        await self._set(row_id, {"approval": decision}, approval="pending", approved_by=None)

    async def update(self, row_id: int, **values: Any) -> None:
        await self._set(row_id, {}, **values)

    async def _set(self, row_id: int, expected: dict[str, Any], **values: Any) -> bool:
        conditions = [getattr(Tracked, key) == value for key, value in expected.items()]
        async with self._session.begin() as session:
            result = await session.execute(
                update(Tracked)
                .where(Tracked.id == row_id, *conditions)
                .values(**values, updated_at=_now())
            )
        return bool(getattr(result, "rowcount", 0) == 1)

    async def claim(self, key: str) -> bool:
        try:
            async with self._session.begin() as session:
                session.add(Claim(key=key))
        except IntegrityError:
            return False
        return True

    async def lock_of(self, app: str) -> Lock | None:
        async with self._session() as session:
            return await session.get(Lock, app)

    async def lock(self, app: str, *, reason: str, user: str, channel: str) -> None:
        async with self._session.begin() as session:
            await session.merge(Lock(app=app, reason=reason, locked_by=user, channel=channel))

    async def unlock(self, app: str) -> bool:
        async with self._session.begin() as session:
            result = await session.execute(delete(Lock).where(Lock.app == app))
        return bool(getattr(result, "rowcount", 0))

    async def audit(self, **fields: Any) -> None:
        async with self._session.begin() as session:
            session.add(Audit(**fields))

    async def recent(self, app: str, limit: int = 5) -> list[Audit]:
        async with self._session() as session:
            rows = await session.scalars(
                select(Audit).where(Audit.app == app).order_by(Audit.id.desc()).limit(limit)
            )
            return list(rows)
