"""`deploybot migrate --to` an older schema, as an operator runs it: tables that hold rows are
dropped only once confirmed at a terminal, or with --yes; without a terminal it refuses."""

from __future__ import annotations

import asyncio
import os
import pty
import sys
from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from bot import migrations
from bot.store.db import Database

OLDER = "0004"  # before watched_apps and seen_deployments existed


async def _store(path: Path, *, rows: bool) -> str:
    url = f"sqlite:///{path}"
    db = Database(url)
    await migrations.upgrade(db)
    if rows:
        async with db.engine.begin() as conn:
            await conn.execute(text("INSERT INTO watched_apps (app, channel) VALUES ('web', 'C1')"))
            for deployment in ("d1", "d2"):
                await conn.execute(
                    text("INSERT INTO seen_deployments VALUES ('web', :d, '2026-12-01')"),
                    {"d": deployment},
                )
    await db.close()
    return url


async def _state(url: str) -> tuple[str | None, bool]:
    """The store's schema, and whether watched_apps is still there."""
    db = Database(url)
    async with db.engine.connect() as conn:
        [(version,)] = (await conn.execute(text("SELECT version_num FROM alembic_version"))).all()
        has = await conn.run_sync(lambda c: inspect(c).has_table("watched_apps"))
    await db.close()
    return version, has


async def _migrate(url: str, *args: str, answer: str | None = None) -> tuple[int, str]:
    """The CLI as a process; with `answer`, its stdin is a terminal that types it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DEPLOYBOT_"))}
    terminal, typing = pty.openpty() if answer is not None else (None, None)
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "migrate",
        *args,
        env=env | {"DEPLOYBOT_DATABASE_URL": url},
        stdin=typing if typing is not None else asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    if terminal is not None and typing is not None:
        os.close(typing)
        os.write(terminal, f"{answer}\n".encode())
    try:
        async with asyncio.timeout(60):
            out, _ = await process.communicate()
    finally:
        if terminal is not None:
            os.close(terminal)
    assert process.returncode is not None
    return process.returncode, out.decode()


LOST = (
    f"moving the store back to schema {OLDER} drops 2 tables holding rows: "
    "seen_deployments (2 rows), watched_apps (1 row)"
)


async def test_without_a_terminal_it_refuses_and_changes_nothing(tmp_path: Path) -> None:
    url = await _store(tmp_path / "store.db", rows=True)
    code, out = await _migrate(url, "--to", OLDER)
    assert code == 1
    assert out.splitlines() == [
        f"deploybot: {LOST}. Nothing changed: run it at a terminal to be asked, or add --yes"
    ]
    assert await _state(url) == (migrations.head(), True)


@pytest.mark.slow
async def test_at_a_terminal_no_keeps_the_rows_and_yes_drops_them(tmp_path: Path) -> None:
    url = await _store(tmp_path / "store.db", rows=True)
    code, out = await _migrate(url, "--to", OLDER, answer="n")
    assert code == 1
    assert f"deploybot: {LOST}. Drop them? [y/N]" in out
    assert out.rstrip().endswith("deploybot: nothing changed")
    assert await _state(url) == (migrations.head(), True)

    code, out = await _migrate(url, "--to", OLDER, answer="y")
    assert code == 0, out
    assert f"store moved back from schema {migrations.head()} to {OLDER}" in out
    assert await _state(url) == (OLDER, False)


async def test_yes_drops_without_asking(tmp_path: Path) -> None:
    url = await _store(tmp_path / "store.db", rows=True)
    code, out = await _migrate(url, "--to", OLDER, "--yes")
    assert code == 0, out
    assert out.splitlines() == [f"store moved back from schema {migrations.head()} to {OLDER}"]
    assert await _state(url) == (OLDER, False)


@pytest.mark.slow
async def test_empty_tables_are_dropped_without_asking(tmp_path: Path) -> None:
    """Nothing to lose: no question, even without a terminal; an upgrade never asks."""
    url = await _store(tmp_path / "store.db", rows=False)
    code, out = await _migrate(url, "--to", OLDER)
    assert code == 0, out
    assert await _state(url) == (OLDER, False)
    code, out = await _migrate(url)
    assert code == 0, out
    assert out.splitlines() == [f"store upgraded from schema {OLDER} to {migrations.head()}"]
