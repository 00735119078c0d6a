"""The store's schema under Alembic, on SQLite and PostgreSQL: created, recognised when the
first release's `create_all` made it, upgraded with its rows, and never run by older code."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, inspect, text

import bot.outbox.table
import bot.store.tables
from bot import migrations
from bot.store import Store
from bot.store.db import Base, Database
from tests.conftest import postgres_schema, write_apps
from tests.processes import spawn_bot

DATA = Path(__file__).parents[1] / "data"
TABLES = (bot.store.tables, bot.outbox.table)  # the modules that put every table on Base.metadata


@pytest.fixture(params=["sqlite", "postgresql"])
async def db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    async with AsyncExitStack() as stack:
        if request.param == "sqlite":
            url = f"sqlite:///{tmp_path / 'store.db'}"
        else:
            url = await stack.enter_async_context(postgres_schema())
        database = Database(url)
        yield database
        await database.close()


def _differences(conn: Connection) -> list[Any]:
    """What differs between the store and the code's tables (Alembic's autogenerate)."""
    context = MigrationContext.configure(conn, opts={"compare_type": True})
    return list(compare_metadata(context, Base.metadata))


async def _first_release(db: Database) -> None:
    """The tables as the first release's create_all made them, with a deployment in flight."""
    ddl = (DATA / f"store_e1cb689.{db.engine.dialect.name}.sql").read_text(encoding="utf-8")
    then = datetime(2026, 11, 22, tzinfo=UTC)
    async with db.engine.begin() as conn:
        for statement in ddl.split(";"):
            if statement.strip().removeprefix("--").strip() and "CREATE" in statement:
                await conn.execute(text(statement))
        await conn.execute(
            text(
                "INSERT INTO deployments (kind, app, provider, deployment_id, channel, root_ts,"
                " requester, env, status, owner, lease_until, outage_noticed, abandoned,"
                " created_at, updated_at) VALUES ('deploy', 'web', 'nometria', 'dep_1', 'C0D',"
                " '1.1', 'U0DEV', '{}', 'building', 'old:1:abc', :then, false, false, :then,"
                " :then)"
            ),
            {"then": then},
        )
        await conn.execute(
            text(
                "INSERT INTO outbox (channel, kind, text, blocks, broadcast, state, sent_ts,"
                " attempts, created_at) VALUES ('C0D', 'post', 'is building', '[]', false,"
                " 'sent', '1.2', 1, :then)"
            ),
            {"then": then},
        )


async def test_an_empty_store_is_created_at_the_codes_schema(db: Database) -> None:
    """A new store gets every table as the code declares it, and says so in one line."""
    upgrade = await migrations.upgrade(db)
    assert (upgrade.before, upgrade.after) == (None, migrations.head())
    assert str(upgrade) == f"store created at schema {migrations.head()}"
    async with db.engine.connect() as conn:
        assert await conn.run_sync(_differences) == []
    assert str(await migrations.upgrade(db)) == f"store schema {migrations.head()} is current"


async def test_a_first_release_store_is_recognised_and_upgraded_with_its_rows(
    db: Database,
) -> None:
    """No alembic_version table: stamped as the first schema, upgraded, the deployment kept."""
    await _first_release(db)
    upgrade = await migrations.upgrade(db)
    assert (upgrade.before, upgrade.after) == (migrations.FIRST, migrations.head())
    async with db.engine.connect() as conn:
        assert await conn.run_sync(_differences) == []
        columns = await conn.run_sync(lambda c: inspect(c).get_columns("outbox"))
        assert "sent_ts" not in {column["name"] for column in columns}
        [(count,)] = (await conn.execute(text("SELECT count(*) FROM outbox"))).all()
        assert count == 1
    later = datetime(2026, 11, 22, tzinfo=UTC) + timedelta(minutes=5)
    store = Store(db, clock=lambda: later, owner="new")
    [row] = await store.leases.take("new", seconds=1)  # the old process's lease has run out
    assert (row.app, row.deployment_id, row.status.value) == ("web", "dep_1", "building")


async def test_a_store_newer_than_the_code_is_refused_naming_the_command(db: Database) -> None:
    """Upgraded by a later deploybot: this one refuses to use it and says what to run."""
    await migrations.upgrade(db)
    async with db.engine.begin() as conn:
        await conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    with pytest.raises(migrations.StoreTooNew) as refused:
        await migrations.upgrade(db)
    message = str(refused.value)
    assert "schema 9999, newer than this deploybot knows" in message
    assert f"`deploybot migrate --to {migrations.head()}`" in message
    assert "\n" not in message


async def test_migrate_goes_down_to_an_older_schema_and_back(db: Database) -> None:
    """`deploybot migrate --to 0001` undoes later migrations; a plain upgrade redoes them."""
    await migrations.upgrade(db)
    down = await migrations.upgrade(db, to=migrations.FIRST)
    assert (down.before, down.after) == (migrations.head(), migrations.FIRST)
    async with db.engine.connect() as conn:
        columns = await conn.run_sync(lambda c: inspect(c).get_columns("outbox"))
        assert "sent_ts" in {column["name"] for column in columns}
    await migrations.upgrade(db)
    async with db.engine.connect() as conn:
        assert await conn.run_sync(_differences) == []


async def test_serve_refuses_a_newer_store_in_one_line(tmp_path: Path, served_fakes: Any) -> None:
    """`deploybot serve` on a store a later version upgraded: exit 1, one line, no traceback."""
    db = Database(f"sqlite:///{tmp_path / 'store.db'}")
    await migrations.upgrade(db)
    async with db.engine.begin() as conn:
        await conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    await db.close()
    _, _, _, _, servers = served_fakes
    bot = await spawn_bot(
        tmp_path,
        name="refused",
        apps=write_apps(tmp_path, servers),
        slack_url=servers["slack"].url,
        database_url=f"sqlite:///{tmp_path / 'store.db'}",
    )
    assert await bot.process.wait() == 1
    assert bot.output().splitlines() == [
        "deploybot: DEPLOYBOT_DATABASE_URL: the store is at schema 9999, newer than this "
        f"deploybot knows ({migrations.head()}): run the newer deploybot, or undo its upgrade "
        f"with `deploybot migrate --to {migrations.head()}` from that version"
    ]


async def test_rows_lost_names_the_tables_an_older_schema_drops_that_hold_rows(
    db: Database,
) -> None:
    """Only tables the older schema lacks, only those with rows; nothing for an upgrade."""
    await migrations.upgrade(db)
    async with db.engine.begin() as conn:
        await conn.execute(text("INSERT INTO watched_apps (app, channel) VALUES ('web', 'C1')"))
    assert await migrations.rows_lost(db, to="0004") == {"watched_apps": 1}
    assert await migrations.rows_lost(db, to="0005") == {}  # 0005 keeps watched_apps
    assert await migrations.rows_lost(db, to=migrations.head()) == {}
    assert await migrations.rows_lost(db, to="9999") == {}  # refused by upgrade, in its words
