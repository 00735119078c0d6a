"""The tracked deployments, in SQLAlchemy (SQLite by default, PostgreSQL for replicas)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import String, UniqueConstraint, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from bot.models import Status

_FINISHED = [s.value for s in Status if s.finished]


def _now() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    pass


class Tracked(Base):
    """A deployment the bot started and follows in a thread."""

    __tablename__ = "deployments"
    __table_args__ = (UniqueConstraint("provider", "deployment_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    app: Mapped[str] = mapped_column(String(100))
    provider: Mapped[str] = mapped_column(String(30))
    deployment_id: Mapped[str] = mapped_column(String(100))
    channel: Mapped[str] = mapped_column(String(30))
    root_ts: Mapped[str] = mapped_column(String(30))
    requester: Mapped[str] = mapped_column(String(30))
    ref: Mapped[str | None] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(default=_now)
    updated_at: Mapped[datetime] = mapped_column(default=_now, onupdate=_now)

    @property
    def state(self) -> Status:
        return Status(self.status)


def async_url(url: str) -> str:
    """Operators write plain SQLAlchemy URLs; the bot needs the asyncio driver for each."""
    for plain, driver in (
        ("sqlite://", "sqlite+aiosqlite://"),
        ("postgresql://", "postgresql+psycopg://"),
    ):
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

    async def track(
        self,
        *,
        app: str,
        provider: str,
        deployment_id: str,
        channel: str,
        root_ts: str,
        requester: str,
        ref: str | None,
        status: Status,
    ) -> Tracked:
        row = Tracked(
            app=app,
            provider=provider,
            deployment_id=deployment_id,
            channel=channel,
            root_ts=root_ts,
            requester=requester,
            ref=ref,
            status=status.value,
        )
        async with self._session.begin() as session:
            session.add(row)
        return row

    async def in_flight(self) -> list[Tracked]:
        async with self._session() as session:
            rows = await session.scalars(
                select(Tracked).where(Tracked.status.not_in(_FINISHED)).order_by(Tracked.id)
            )
            return list(rows)

    async def advance(self, row_id: int, *, expected: Status, new: Status) -> bool:
        """Compare-and-set the status: only one caller wins a change, and only it announces."""
        async with self._session.begin() as session:
            result = await session.execute(
                update(Tracked)
                .where(Tracked.id == row_id, Tracked.status == expected.value)
                .values(status=new.value, updated_at=_now())
            )
        return bool(getattr(result, "rowcount", 0) == 1)

    async def get(self, row_id: int) -> Tracked | None:
        async with self._session() as session:
            return await session.get(Tracked, row_id)
