"""The DORA figures in /metrics: running figures, read from what changed (never a scan of the
deployments table per scrape), and the same as `/deploy stats` counts from the bot's records."""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import event

from bot import dora
from bot.dora import Stats, compute
from bot.models import Kind, Status
from bot.store import Store
from bot.usecases.figures import SETTLE
from tests.conftest import World
from tests.usecases.test_history_stats import _deployed

CHANNEL = "C0DEPLOYS"
GAUGES = (
    ("deploybot_dora_deployments_per_day", "per_day"),
    ("deploybot_dora_change_failure_ratio", "change_failure_rate"),
    ("deploybot_dora_time_to_restore_seconds", "median_restore_seconds"),
)


async def _scrape(world: World) -> dict[tuple[str, str | None], float]:
    response = await world.http.get(world.metrics_url + "/metrics")
    assert response.status_code == 200
    return {
        (sample.name, sample.labels.get("app")): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


async def _from_the_records(world: World, app: str) -> Stats:
    """What `/deploy stats` counts from the bot's own rows (its provider part aside)."""
    now = world.wall()
    rows = await world.runtime.store.of_app(app, since=now - timedelta(days=31))
    return compute(dora.records(app, rows, []), now=now, days=30)


async def _assert_same(world: World, apps: tuple[str, ...]) -> None:
    scraped = await _scrape(world)
    for app in apps:
        expected = await _from_the_records(world, app)
        for gauge, figure in GAUGES:
            value, want = scraped[(gauge, app)], getattr(expected, figure)
            assert (math.isnan(value) and want is None) or value == want, (app, gauge)


@contextmanager
def _statements(world: World) -> Iterator[list[tuple[str, Any]]]:
    """Every SQL statement the bot sends about the deployments table, with its parameters."""
    seen: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if "deployments" in statement:
            seen.append((statement, parameters))

    engine = world.runtime.db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


async def _seed(store: Store, count: int) -> None:
    """`count` finished deployments of web and docs, as the bot would have kept them."""
    for n in range(count):
        app = ("web", "docs")[n % 2]
        await store.track(
            kind=Kind.DEPLOY,
            app=app,
            provider="nometria" if app == "web" else "stormkit",
            deployment_id=f"dep_{n:05d}",
            channel=CHANNEL,
            root_ts=f"1700000000.{n:06d}",
            requester="U0DEV",
            ref=None,
            status=Status.FAILED if n % 7 == 0 else Status.LIVE,
        )


async def test_a_scrape_searches_what_changed_and_never_scans_the_deployments(
    world: World,
) -> None:
    await _seed(world.runtime.store, 300)
    await _scrape(world)  # the first after start reads the window, once
    world.wall.offset += SETTLE + timedelta(seconds=1)

    with _statements(world) as seen:
        await _scrape(world)
    [(statement, parameters)] = seen
    assert "updated_at >=" in statement
    async with world.runtime.db.engine.connect() as conn:
        plan = await conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
        steps = " ".join(str(row[-1]) for row in plan)
    assert "USING INDEX ix_deployments_updated_at" in steps, steps
    assert "SCAN deployments" not in steps, steps
    await _assert_same(world, ("web", "docs", "shop"))


async def test_the_figures_are_what_stats_counts_from_the_bots_records(world: World) -> None:
    """Live, failed, live again; then a rollback kept by another replica: each scrape agrees."""
    await _deployed(world, "web")
    await _deployed(world, "web bad1234")
    await _scrape(world)
    await _deployed(world, "web")
    await _assert_same(world, ("web", "docs", "shop"))
    before = await _scrape(world)
    assert before[("deploybot_dora_change_failure_ratio", "web")] == 1 / 3

    other = Store(world.runtime.db, clock=world.wall, owner="another-replica")
    await other.track(
        kind=Kind.ROLLBACK,
        app="web",
        provider="nometria",
        deployment_id="dep_rolled_back_to",
        channel="C0INCIDENT",
        root_ts="1700000001.000001",
        requester="U0LEAD",
        ref=None,
        status=Status.LIVE,
    )
    await _assert_same(world, ("web", "docs", "shop"))
    after = await _scrape(world)
    assert after[("deploybot_dora_change_failure_ratio", "web")] == 2 / 3


async def test_the_figures_move_as_deployments_leave_the_window(world: World) -> None:
    await _deployed(world, "web")
    assert (await _scrape(world))[("deploybot_dora_deployments_per_day", "web")] == 1 / 30
    world.wall.offset += timedelta(days=30, seconds=30)
    with _statements(world) as seen:
        scraped = await _scrape(world)
    assert scraped[("deploybot_dora_deployments_per_day", "web")] == 0
    assert len(seen) == 1  # nothing changed: no row is read again
    await _assert_same(world, ("web",))
