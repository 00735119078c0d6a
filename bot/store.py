"""Tracked deployments, locks, claims and the audit log, in SQLAlchemy (SQLite or PostgreSQL)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import JSON, DateTime, Index, String, Text, delete, event, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
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
    # Which replica polls it, until when; another takes over once the lease runs out.
    owner: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    failing_since: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    outage_noticed: Mapped[bool] = mapped_column(default=False)
    abandoned: Mapped[bool] = mapped_column(default=False)  # stuck too long: no longer polled
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)

    @property
    def state(self) -> Status:
        return Status(self.status)


class Notice(Base):
    """The outbox: a message to send or an edit to make in Slack, recorded before it is sent."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_state_channel", "state", "channel"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tracked_id: Mapped[int | None] = mapped_column()
    channel: Mapped[str] = mapped_column(String(30))
    kind: Mapped[str] = mapped_column(String(10))  # post (a thread reply) or update
    thread_ts: Mapped[str | None] = mapped_column(String(30))
    target_ts: Mapped[str | None] = mapped_column(String(30))  # the message an update edits
    text: Mapped[str] = mapped_column(Text)
    blocks: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    broadcast: Mapped[bool] = mapped_column(default=False)
    purpose: Mapped[str | None] = mapped_column(String(20))  # "prompt": remember its ts
    state: Mapped[str] = mapped_column(String(12), default="pending")
    owner: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    sent_ts: Mapped[str | None] = mapped_column(String(30))
    attempts: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)


class Lock(Base):
    __tablename__ = "locks"

    app: Mapped[str] = mapped_column(String(100), primary_key=True)
    reason: Mapped[str] = mapped_column(Text)
    locked_by: Mapped[str] = mapped_column(String(30))
    channel: Mapped[str] = mapped_column(String(30))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)


class Claim(Base):
    """A one-time key: the first to insert it does the thing, everyone after is a duplicate."""

    __tablename__ = "claims"

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)


class Audit(Base):
    __tablename__ = "audit"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    user: Mapped[str] = mapped_column(String(30))
    action: Mapped[str] = mapped_column(String(30))
    app: Mapped[str | None] = mapped_column(String(100))
    deployment_id: Mapped[str | None] = mapped_column(String(100))
    channel: Mapped[str] = mapped_column(String(30))
    outcome: Mapped[str] = mapped_column(String(20))
    detail: Mapped[str] = mapped_column(Text, default="")


_IN_FLIGHT = (
    Tracked.status.not_in(_FINISHED),
    Tracked.deployment_id.is_not(None),
    Tracked.abandoned.is_(False),
)


def _sqlite_pragmas(connection: Any, _: Any) -> None:
    """WAL lets readers work beside the writer; a busy timeout waits instead of failing."""
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def async_url(url: str) -> str:
    """Operators write plain SQLAlchemy URLs; the bot needs the asyncio driver for each."""
    drivers = (("sqlite://", "sqlite+aiosqlite://"), ("postgresql://", "postgresql+psycopg://"))
    for plain, driver in drivers:
        if url.startswith(plain):
            return driver + url.removeprefix(plain)
    return url


class Store:
    def __init__(self, url: str, *, owner: str = "", lease_seconds: float = 30.0) -> None:
        self.engine: AsyncEngine = create_async_engine(async_url(url))
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
        self.owner = owner  # the replica that polls what it tracks, until its lease runs out
        self._lease = timedelta(seconds=lease_seconds)
        self._session = async_sessionmaker(self.engine, expire_on_commit=False)

    @property
    def session(self) -> async_sessionmaker[AsyncSession]:
        return self._session

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
        row = Tracked(owner=self.owner, lease_until=_now() + self._lease, **fields)
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
            return list(
                await session.scalars(select(Tracked).where(*_IN_FLIGHT).order_by(Tracked.id))
            )

    async def lease(self, owner: str, *, seconds: float) -> list[Tracked]:
        """Take (or keep) the in-flight deployments no live replica holds, for `seconds`.

        One UPDATE: under PostgreSQL's row locks a concurrent replica re-reads each row after
        this one commits, so a row is never held by two replicas at once.
        """
        now = _now()
        async with self._session.begin() as session:
            rows = await session.scalars(
                update(Tracked)
                .where(
                    *_IN_FLIGHT,
                    or_(
                        Tracked.owner.is_(None),
                        Tracked.owner == owner,
                        Tracked.lease_until < now,
                    ),
                )
                .values(owner=owner, lease_until=now + timedelta(seconds=seconds))
                .returning(Tracked),
                execution_options={"synchronize_session": False},
            )
            return sorted(rows, key=lambda row: row.id)

    async def advance(
        self,
        row_id: int,
        *,
        expected: Status,
        new: Status,
        notices: Sequence[Notice] = (),
        **also: Any,
    ) -> bool:
        """Compare-and-set the status, and queue what to say about it, in one transaction.

        Only one caller wins a change; its notices are in the outbox before anyone can see the
        new status, so a crash between the two can neither lose nor double them.
        """
        return await self.change(
            row_id, {"status": expected.value}, notices=notices, status=new.value, **also
        )

    async def decide(self, row_id: int, *, decision: str, user: str) -> bool:
        """Settle a pending approval once: a second click, or a concurrent one, gets False."""
        return await self.change(
            row_id, {"approval": "pending"}, approval=decision, approved_by=user
        )

    async def reopen(self, row_id: int, *, decision: str) -> None:
        """Undo a decision whose action failed, so someone can try again."""
        await self.change(row_id, {"approval": decision}, approval="pending", approved_by=None)

    async def update(self, row_id: int, *, notices: Sequence[Notice] = (), **values: Any) -> None:
        await self.change(row_id, {}, notices=notices, **values)

    async def change(
        self,
        row_id: int,
        expected: dict[str, Any],
        *,
        notices: Sequence[Notice] = (),
        **values: Any,
    ) -> bool:
        """Set `values` if the row still holds `expected`, and queue `notices` with them."""
        conditions = [getattr(Tracked, key) == value for key, value in expected.items()]
        async with self._session.begin() as session:
            result = await session.execute(
                update(Tracked)
                .where(Tracked.id == row_id, *conditions)
                .values(**values, updated_at=_now())
            )
            won = bool(getattr(result, "rowcount", 0) == 1)
            if won:
                session.add_all(notices)
            return won

    async def enqueue(self, notices: Sequence[Notice]) -> None:
        async with self._session.begin() as session:
            session.add_all(notices)

    async def claim(self, key: str) -> bool:
        try:
            async with self._session.begin() as session:
                session.add(Claim(key=key))
        except IntegrityError:
            return False
        return True

    async def unclaim(self, key: str) -> None:
        """Give a key back when the thing it guarded certainly did not happen."""
        async with self._session.begin() as session:
            await session.execute(delete(Claim).where(Claim.key == key))

    async def prune(self, *, before: datetime) -> None:
        """Forget what only guarded against repeats or was already delivered, once it is old."""
        async with self._session.begin() as session:
            await session.execute(delete(Claim).where(Claim.created_at < before))
            await session.execute(
                delete(Notice).where(
                    Notice.state.in_(("sent", "merged", "failed")), Notice.created_at < before
                )
            )

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
