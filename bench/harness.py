"""A bot process against the fakes on 127.0.0.1, for benchmarks: the same pieces the tests use."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import statistics
import sys
import tempfile
from collections.abc import AsyncIterator, Callable, Collection, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import (
    BOT_TOKEN,
    ENVIRON,
    NOMETRIA_KEY,
    SIGNING_SECRET,
    STORMKIT_KEY,
    eventually,
    write_apps,
)
from tests.fakes.clock import ManualClock
from tests.fakes.nometria import FakeNometria
from tests.fakes.server import serve
from tests.fakes.slack import FakeSlack
from tests.fakes.slack_limits import SlackLimits
from tests.fakes.stormkit import FakeStormkit
from tests.processes import BotProcess, free_port, start_bot
from tests.slack_client import SlackDriver

ROOT = Path(__file__).parent.parent
BOTS = ("deploybot", "naive")  # bench/naive_bot.py: the comparison, same fakes, same run


@dataclass
class Bench:
    clock: ManualClock
    slack: FakeSlack
    nometria: FakeNometria
    stormkit: FakeStormkit
    bot: BotProcess
    driver: SlackDriver
    http: httpx.AsyncClient
    db: Path

    def sql(self, query: str) -> int:
        with sqlite3.connect(self.db) as conn:
            return int(conn.execute(query).fetchone()[0])

    async def metric(self, name: str) -> float:
        text = (await self.http.get(self.bot.metrics_url + "/metrics")).text
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                if sample.name == name:
                    return float(sample.value)
        return 0.0

    def provider_reads(self) -> int:
        return sum(
            1
            for fake in (self.nometria, self.stormkit)
            for request in fake.requests
            if request.method == "GET"
        )

    def refused(self) -> str:
        """What Slack answered with 429 (its limits), for the report."""
        counts = self.slack.limits.refused if self.slack.limits else {}
        posts, edits = counts.get("chat.postMessage", 0), counts.get("chat.update", 0)
        return f"Slack's 429s: {posts} posts, {edits} edits"

    def peak_rss_mb(self) -> float:
        status = Path(f"/proc/{self.bot.process.pid}/status").read_text(encoding="utf-8")
        kb = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM"))
        return kb / 1024


async def deploy_each(b: Bench, count: int, where: Callable[[int], str]) -> None:
    """`/deploy` of `count` apps, 50 commands at a time, the i-th in channel `where(i)`."""
    slots = asyncio.Semaphore(50)

    async def one(i: int) -> None:
        async with slots:
            response = await b.driver.command(app_name(i), channel=where(i))
            assert response.status_code == 200

    await asyncio.gather(*(one(i) for i in range(count)))


def first_replies(b: Bench, threads: Collection[str], seen: int, t0: float) -> dict[str, float]:
    """Per thread, the seconds from `t0` to its first reply among the calls after `seen`;
    empty until every thread has one."""
    first: dict[str, float] = {}
    for call in b.slack.calls[seen:]:
        ts = call.args.get("thread_ts")
        if call.method == "chat.postMessage" and ts in threads and call.ok:
            first.setdefault(str(ts), call.at - t0)
    return first if len(first) == len(threads) else {}


# One deployment per app at a time: the benchmarks deploy many apps, one deploy each, so every
# command reaches a provider at once instead of waiting in its app's line.
APPS = 1000


def app_name(i: int) -> str:
    """The app the i-th command deploys: half on Nometria, half on Stormkit."""
    return f"fan{i % APPS:04d}"


def many_apps() -> str:
    return "".join(
        f'\n[apps.{app_name(i)}]\nprovider = "stormkit"\nenv_id = "305"\n'
        if i % 2
        else f'\n[apps.{app_name(i)}]\nprovider = "nometria"\nproject_id = "proj_{i:04d}"\n'
        for i in range(APPS)
    )


@asynccontextmanager
async def bench(
    *,
    provider_latency: float,
    poll_interval: float,
    pace: float,
    concurrency: int = 50,
    which: str = "deploybot",
    apps: str | None = None,
    extra: dict[str, str] | None = None,
) -> AsyncIterator[Bench]:
    """A bot and its fakes; `apps` is the apps file's tables (default: the 1,000 `fan` apps),
    `extra` more settings for the bot."""
    clock = ManualClock()
    # Slack's firm limit, a post a second per channel (short bursts allowed), enforced for every
    # bot. Edits are not limited here: Tier 3's "50+ a minute" is a floor, not the limit, and
    # held to it the naive bot's follow loops would stall behind their own root edits.
    limits = SlackLimits(post_every=max(pace, 0.01), updates_per_minute=0)
    slack = FakeSlack(token=BOT_TOKEN, limits=limits)
    nometria = FakeNometria(api_key=NOMETRIA_KEY, clock=clock, step=1.0)
    stormkit = FakeStormkit(env_key=STORMKIT_KEY, clock=clock, step=1.0)
    nometria.latency = stormkit.latency = provider_latency
    servers = {
        "slack": await serve(slack.app()),
        "nometria": await serve(nometria.app()),
        "stormkit": await serve(stormkit.app()),
    }
    slack.bind(servers["slack"].url)
    with tempfile.TemporaryDirectory(prefix="deploybot-bench-") as tmp:
        work = Path(tmp)
        db = work / "bench.db"
        settings = {
            "DEPLOYBOT_POLL_INTERVAL": str(poll_interval),
            "DEPLOYBOT_CHANNEL_PACE": str(pace),
            "DEPLOYBOT_POLL_CONCURRENCY": str(concurrency),
            "DEPLOYBOT_LEASE_SECONDS": "600",
            **(extra or {}),
        }
        start = start_bot if which == "deploybot" else start_naive
        bot = await start(
            work,
            name=which,
            apps=write_apps(work, servers, many_apps() if apps is None else apps),
            slack_url=servers["slack"].url,
            database_url=f"sqlite:///{db}",
            **settings,
        )
        try:
            async with httpx.AsyncClient(
                timeout=60, limits=httpx.Limits(max_connections=200)
            ) as http:
                driver = SlackDriver(bot.url, SIGNING_SECRET, slack, http)
                yield Bench(clock, slack, nometria, stormkit, bot, driver, http, db)
        finally:
            await bot.stop()
            for served in servers.values():
                await served.close()


async def start_naive(
    tmp: Path, *, name: str, apps: Path, slack_url: str, database_url: str, **extra: str
) -> BotProcess:
    """bench/naive_bot.py as its own process, with the environment `deploybot serve` gets."""
    del database_url  # the naive bot keeps nothing
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DEPLOYBOT_"))}
    env |= ENVIRON | {
        "PYTHONPATH": str(ROOT),
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": slack_url + "/api/",
        "DEPLOYBOT_CONFIG": str(apps),
        "PORT": str(port),
        **extra,
    }
    log = tmp / f"{name}.log"
    with log.open("wb") as out:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bench.naive_bot", env=env, cwd=tmp, stdout=out, stderr=out
        )
    url = f"http://127.0.0.1:{port}"
    naive = BotProcess(process, url, log, metrics_url=url)  # it serves no /metrics
    async with httpx.AsyncClient() as http:

        async def healthy() -> bool:
            if process.returncode is not None:
                raise AssertionError(f"the naive bot exited:\n{naive.output()}")
            try:
                return (await http.get(naive.url + "/healthz")).status_code == 200
            except httpx.TransportError:
                return False

        await eventually(healthy, within=30)
    return naive


def percentile(values: Sequence[float], p: float) -> float:
    """The p-th percentile (0-100), by the inclusive method."""
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[max(0, min(98, round(p) - 1))]
