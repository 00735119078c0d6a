"""The store's schema, versioned with Alembic: upgraded at start, never silently downgraded.

A store made by the first release's `create_all` has no `alembic_version` table: it is
recognised by its tables, stamped as the first revision, and upgraded from there.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import sqlalchemy.exc
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, create_engine, func, inspect, select, table, text

from bot.config import ConfigError
from bot.config.settings import Settings
from bot.store.db import Database

log = logging.getLogger(__name__)

FIRST = "0001"  # the schema `create_all` made before migrations existed
# Replicas starting together: one upgrades, the others wait for it (PostgreSQL advisory lock).
LOCK_KEY = 0x6465706C6F79  # "deploy"


class SchemaError(Exception):
    """The store cannot be brought to the schema asked for; the message is one line."""


class StoreTooNew(SchemaError):
    """The store was upgraded by a newer deploybot than this one."""


@dataclass(frozen=True)
class Upgrade:
    before: str | None  # None: an empty store
    after: str
    down: bool = False

    def __str__(self) -> str:
        if self.down:
            return f"store moved back from schema {self.before} to {self.after}"
        if self.before == self.after:
            return f"store schema {self.after} is current"
        if self.before is None:
            return f"store created at schema {self.after}"
        return f"store upgraded from schema {self.before} to {self.after}"


def _config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", "bot:migrations")
    config.attributes["connection"] = connection
    return config


def head() -> str:
    """The newest schema this code knows."""
    return str(ScriptDirectory.from_config(_config()).get_current_head())


def _current(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def _migrate(connection: Connection, target: str | None) -> Upgrade:
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOCK_KEY})
    config = _config(connection)
    scripts = ScriptDirectory.from_config(config)
    before = _current(connection)
    if before is None and inspect(connection).has_table("deployments"):
        command.stamp(config, FIRST)  # made by create_all before migrations existed
        before = FIRST
    known = [s.revision for s in scripts.walk_revisions()]  # newest first
    if before is not None and before not in known:
        raise StoreTooNew(
            f"the store is at schema {before}, newer than this deploybot knows ({known[0]}): "
            f"run the newer deploybot, or undo its upgrade with `deploybot migrate --to "
            f"{known[0]}` from that version"
        )
    goal = target or known[0]
    if goal not in known:
        raise SchemaError(f"there is no schema {goal}: this deploybot knows {', '.join(known)}")
    if before == goal:  # nothing to do (Alembic would read every script again to find that)
        return Upgrade(before, goal)
    if before is not None and known.index(goal) > known.index(before):  # `migrate --to` older
        command.downgrade(config, goal)
        return Upgrade(before, goal, down=True)
    command.upgrade(config, goal)
    return Upgrade(before, goal)


def _tables_at(goal: str) -> set[str]:
    """The tables a store has at schema `goal`: an empty one, in memory, brought up to it."""
    engine = create_engine("sqlite://")
    try:
        with engine.begin() as connection:
            command.upgrade(_config(connection), goal)
            return set(inspect(connection).get_table_names())
    finally:
        engine.dispose()


def _rows_lost(connection: Connection, goal: str) -> dict[str, int]:
    known = [s.revision for s in ScriptDirectory.from_config(_config()).walk_revisions()]
    before = _current(connection)
    if before not in known or goal not in known or known.index(goal) <= known.index(before):
        return {}  # not a move back: nothing dropped (or refused by upgrade, in its words)
    lost = {}
    for name in sorted(set(inspect(connection).get_table_names()) - _tables_at(goal)):
        count = connection.execute(select(func.count()).select_from(table(name))).scalar_one()
        if count:
            lost[name] = int(count)
    return lost


async def rows_lost(db: Database, *, to: str) -> dict[str, int]:
    """The tables holding rows that moving back to schema `to` would drop, and their rows."""
    async with db.engine.connect() as conn:
        return await conn.run_sync(_rows_lost, to)


async def upgrade(db: Database, *, to: str | None = None) -> Upgrade:
    """Bring the store to this code's schema (or to `to`, up or down), in one transaction."""
    async with db.engine.begin() as conn:
        return await conn.run_sync(_migrate, to)


async def open_store(settings: Settings, *, create: bool = True) -> Database:
    """The database, upgraded to this code's schema (`create`) or only answering; ConfigError in
    one line when DEPLOYBOT_DATABASE_URL cannot be used or the store is newer than the code."""
    url = settings.deploybot_database_url
    unusable = ConfigError(
        "environment: DEPLOYBOT_DATABASE_URL is not a database URL this bot can use "
        "(sqlite:///path/to/file.db or postgresql://user@host/db)"
    )
    if not url.startswith(("sqlite", "postgresql")):
        raise unusable
    try:
        store = Database(url)
    except (sqlalchemy.exc.SQLAlchemyError, ImportError):
        raise unusable from None
    try:
        if create:
            log.info("%s", await upgrade(store))
        else:
            await store.ping()
    except SchemaError as exc:
        await store.close()
        raise ConfigError(f"DEPLOYBOT_DATABASE_URL: {exc}") from None
    except (sqlalchemy.exc.SQLAlchemyError, OSError) as exc:
        await store.close()
        reason = _first_line(getattr(exc, "orig", None) or exc)
        raise ConfigError(
            f"environment: DEPLOYBOT_DATABASE_URL: cannot open the store at "
            f"{store.engine.url.render_as_string(hide_password=True)}: {reason}"
        ) from None
    return store


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]
