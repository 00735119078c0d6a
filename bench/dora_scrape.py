"""What a /metrics scrape costs for the DORA gauges, with many apps and rows: before and after.

The store (SQLite, migrated as `serve` does) holds `apps` x `rows` finished deployments spread
over the last 30 days. Each scrape's DORA part is timed in this process:
- before: what the bot did until now, kept here as the yardstick: read every row asked for in
  the last 31 days, then compute every app's figures (`bot.dora`);
- after: `bot.usecases.figures.DoraFigures.refresh`, idle (nothing changed) and busy (one deployment
  changed before each scrape), after its first scrape (which reads the window once).

    ./dev python -m bench.dora_scrape                 (--smoke: a tiny run for CI)
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
import tracemalloc
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path

from sqlalchemy import insert

from bench.harness import percentile
from bot import dora, migrations
from bot.dora import compute
from bot.metrics import set_dora
from bot.models import Kind, Status, Tracked, utcnow
from bot.store import Store
from bot.store.db import Database
from bot.store.tables import TrackedRow
from bot.usecases.figures import DoraFigures


async def seed(db: Database, apps: list[str], rows: int) -> None:
    now = utcnow()
    values = []
    for a, app in enumerate(apps):
        for n in range(rows):
            at = now - timedelta(days=30) * (n + 0.5) / rows
            values.append(
                {
                    "kind": (Kind.ROLLBACK if n % 50 == 49 else Kind.DEPLOY).value,
                    "app": app,
                    "provider": "nometria",
                    "deployment_id": f"dep_{a:04d}_{n:05d}",
                    "channel": "C0DEPLOYS",
                    "root_ts": f"1700000000.{n:06d}",
                    "requester": "U0DEV",
                    "env": {},
                    "status": (Status.FAILED if n % 9 == 0 else Status.LIVE).value,
                    "created_at": at,
                    "updated_at": at + timedelta(minutes=3),
                }
            )
    async with db.transaction() as session:
        for start in range(0, len(values), 5000):
            await session.execute(insert(TrackedRow), values[start : start + 5000])


async def before(store: Store, apps: list[str]) -> None:
    """The scrape as it was: every row of 31 days, every app's figures computed again."""
    now = utcnow()
    rows: dict[str, list[Tracked]] = {name: [] for name in apps}
    for row in await store.since(now - timedelta(days=31)):
        rows.setdefault(row.app, []).append(row)
    for app, ours in rows.items():
        stats = compute(dora.records(app, ours, []), now=now, days=30)
        set_dora(
            app,
            per_day=stats.per_day,
            failure_rate=stats.change_failure_rate,
            restore_seconds=stats.median_restore_seconds,
        )


async def timed(
    scrape: Callable[[], Awaitable[None]],
    count: int,
    between: Callable[[int], Awaitable[None]] | None = None,
) -> list[float]:
    took = []
    for n in range(count):
        if between is not None:
            await between(n)
        started = time.perf_counter()
        await scrape()
        took.append((time.perf_counter() - started) * 1000)
    return took


def line(name: str, took: list[float]) -> str:
    return (
        f"| {name} | {percentile(took, 50):.2f} ms | {percentile(took, 99):.2f} ms | "
        f"{max(took):.2f} ms |"
    )


async def main(apps_count: int, rows: int, scrapes: int) -> None:
    with tempfile.TemporaryDirectory(prefix="deploybot-bench-") as tmp:
        db = Database(f"sqlite:///{Path(tmp) / 'bench.db'}")
        await migrations.upgrade(db)
        apps = [f"app{n:04d}" for n in range(apps_count)]
        await seed(db, apps, rows)
        store = Store(db, clock=utcnow)
        figures = DoraFigures(store, apps, utcnow)
        ids = [r.id for r in await store.since(utcnow() - timedelta(days=31))]

        async def change(n: int) -> None:
            await store.failing(ids[n * 7919 % len(ids)], None)  # one row written again

        await before(store, apps)  # warm: connections, caches
        tracemalloc.start()
        first = await timed(figures.refresh, 1)
        held = tracemalloc.get_traced_memory()[0] / 1e6  # what the first scrape left held
        tracemalloc.stop()
        print(
            f"{apps_count} apps x {rows} rows ({apps_count * rows} deployments in 30 days), "
            f"{scrapes} scrapes each, {db.engine.url.get_backend_name()}"
        )
        print("| scrape | p50 | p99 | max |\n| --- | --- | --- | --- |")
        print(
            line(
                "before: 31 days read, every app computed",
                await timed(lambda: before(store, apps), scrapes),
            )
        )
        print(line("after, first scrape (reads the window once)", first))
        print(line("after, nothing changed", await timed(figures.refresh, scrapes)))
        print(
            line(
                "after, one deployment changed before each",
                await timed(figures.refresh, scrapes, change),
            )
        )
        print(f"held by the running figures: {held:.1f} MB")
        await db.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--apps", type=int, default=100)
    parser.add_argument("--rows", type=int, default=300, help="deployments per app in 30 days")
    parser.add_argument("--scrapes", type=int, default=30)
    parser.add_argument("--smoke", action="store_true", help="5 apps x 20 rows, 5 scrapes")
    args = parser.parse_args()
    if args.smoke:
        args.apps, args.rows, args.scrapes = 5, 20, 5
    asyncio.run(main(args.apps, args.rows, args.scrapes))
