"""The store's schema, versioned with Alembic: upgraded at start, never silently downgraded.

A store made by the first release's `create_all` has no `alembic_version` table: it is
recognised by its tables, stamped as the first revision, and upgraded from there.
"""

from __future__ import annotations

from dataclasses import dataclass

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, inspect, text

from bot.db import Database

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
    if before is not None and known.index(goal) > known.index(before):  # `migrate --to` older
        command.downgrade(config, goal)
        return Upgrade(before, goal, down=True)
    command.upgrade(config, goal)
    return Upgrade(before, goal)


async def upgrade(db: Database, *, to: str | None = None) -> Upgrade:
    """Bring the store to this code's schema (or to `to`, up or down), in one transaction."""
    async with db.engine.begin() as conn:
        return await conn.run_sync(_migrate, to)
