"""The bot, served over real HTTP on 127.0.0.1, with fake Slack, Nometria and Stormkit servers."""

from __future__ import annotations

import asyncio
import inspect
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import psycopg
import pytest
import stamina
from pydantic import SecretStr

from bot import config as configuration
from bot import migrations
from bot.config.settings import Settings
from bot.providers import http as provider_http
from bot.render import blocks, history_blocks
from bot.runtime import Runtime
from bot.store.db import Database
from tests.fakes.clock import MANUAL_CLOCK_START, ManualClock, WallClock
from tests.fakes.nometria import FakeNometria
from tests.fakes.server import Served, serve
from tests.fakes.slack import FakeSlack
from tests.fakes.stormkit import FakeStormkit
from tests.slack_client import SlackDriver

SIGNING_SECRET = "test-signing-secret-8f2a"
BOT_TOKEN = "xoxb-test-token"
NOMETRIA_KEY = "nm-test-key"
TEST_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/test"
STORMKIT_KEY = "sk-env-key"
SECRET_KEY = "q2cPoQ5Ud8JvzR7ZxXcEXkzs3Vd0d3bRZHkGtB6oVnM="  # a Fernet key, for tests only

APPS = """
incident_channels = ["C0INCIDENT"]

[providers.nometria]
base_url = "{nometria}"

[providers.stormkit]
base_url = "{stormkit}"

[apps.web]
provider = "nometria"
project_id = "proj_abc123"
approvers = ["U0LEAD"]

[apps.docs]
provider = "stormkit"
env_id = "305"
default_branch = "main"
approvers = ["U0LEAD"]

[apps.shop]
provider = "nometria"
project_id = "proj_shop"
approval = true
approvers = ["U0LEAD", "U0LEAD2"]

[apps.blog]
provider = "stormkit"
env_id = "305"
approval = true
approvers = ["U0LEAD", "U0LEAD2"]

[apps.vault]
provider = "nometria"
project_id = "proj_vault"
deployers = ["U0DEV"]
approvers = ["U0LEAD"]
channels = ["C0DEPLOYS"]
"""


@asynccontextmanager
async def postgres_schema() -> AsyncIterator[str]:
    """A fresh schema in the test database, as a SQLAlchemy URL; dropped afterwards."""
    url = os.environ.get("DEPLOYBOT_TEST_DATABASE_URL", TEST_DATABASE_URL)
    try:
        conn = await psycopg.AsyncConnection.connect(url, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL is required in CI and is not reachable at {url}: {exc}")
        pytest.skip(f"no PostgreSQL at {url}")
    schema = f"deploybot_{uuid.uuid4().hex[:10]}"
    async with conn:
        await conn.execute(f'CREATE SCHEMA "{schema}"')
        try:
            yield f"{url}?options={quote(f'-csearch_path={schema}')}"
        finally:
            await conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture
async def postgres() -> AsyncIterator[str]:
    async with postgres_schema() as url:
        yield url


@pytest.fixture(autouse=True)
def _no_backoff() -> Any:
    """Retries happen at once in tests; the attempts still count."""
    with stamina.set_testing(True, attempts=3):
        yield


async def eventually(check: Callable[[], Any], *, within: float = 30.0, every: float = 0.01) -> Any:
    """Wait until `check()` (or the awaitable it returns) is truthy, then return its value.

    The bot works after it acks, and other processes on their own clock: tests wait for the
    condition itself, never for a fixed time. `within` bounds a test that fails; it measures
    nothing, so it is generous (the suite runs on every core of a shared machine).
    """
    async with asyncio.timeout(within):
        while True:
            value = check()
            if inspect.isawaitable(value):
                value = await value
            if value:
                return value
            await asyncio.sleep(every)


@dataclass
class World:
    clock: ManualClock
    slack: FakeSlack
    nometria: FakeNometria
    stormkit: FakeStormkit
    runtime: Runtime
    url: str
    driver: SlackDriver
    http: httpx.AsyncClient
    wall: WallClock = field(default_factory=WallClock)  # the bot's clock
    metrics_url: str = ""  # where /metrics is served: its own address, not `url`

    async def ask(self, text: str, *, user: str = "U0DEV", channel: str = "C0DEPLOYS") -> str:
        """Send a command and return what only its sender sees: the ack, or a later ephemeral."""
        before = len(self.slack.ephemerals)
        response = await self.driver.command(text, user=user, channel=channel)
        assert response.status_code == 200
        if response.content:
            return str(response.json()["text"])
        shown = await eventually(lambda: self.slack.ephemerals[before:])
        return "\n".join(e.all_text for e in shown)

    async def aloud(self, text: str, *, user: str = "U0DEV", channel: str = "C0DEPLOYS") -> str:
        """Send a command the channel hears (lock, unlock): return what it says there, once,
        after checking its sender is not told the same privately."""
        before = (len(self.slack.root_messages(channel)), len(self.slack.ephemerals))
        response = await self.driver.command(text, user=user, channel=channel)
        assert response.status_code == 200
        assert not response.content, response.json()
        [said] = await eventually(lambda: self.slack.root_messages(channel)[before[0] :])
        await self.runtime.door.drain()
        assert self.slack.ephemerals[before[1] :] == []
        return str(said.all_text)

    async def ephemeral_after(self, before: int) -> str:
        shown = await eventually(lambda: self.slack.ephemerals[before:])
        return "\n".join(e.all_text for e in shown)

    def last_reply(self, channel: str, root_ts: str) -> str:
        """The newest reply's text in a thread, or "" while it has none."""
        texts = self.slack.texts_in_thread(channel, root_ts)
        return texts[-1] if texts else ""

    def lives(self, channel: str, root_ts: str) -> int:
        """How many replies in a thread say it is live."""
        return sum("is live" in text for text in self.slack.texts_in_thread(channel, root_ts))

    async def live_after_publish(self, channel: str, root_ts: str) -> None:
        """A Stormkit publish was asked: wait until its thread says live, exactly once.

        The seed's Stormkit publishes at once. Today's server warms the deployment up first:
        the thread says it is deploying, and nothing says live until a poll after the warm-up.
        """
        if self.stormkit.flavour == "server":
            await eventually(lambda: "is deploying" in self.last_reply(channel, root_ts))
            assert self.lives(channel, root_ts) == 0
            await self.tick(self.stormkit.warmup / 2)  # still warming up: nothing changes
            assert self.lives(channel, root_ts) == 0
            assert self.stormkit.warming_id() is not None
            await self.tick(self.stormkit.warmup / 2)
        await eventually(lambda: "is live" in self.last_reply(channel, root_ts))
        assert self.lives(channel, root_ts) == 1

    async def confirm_rollback(
        self, ts: str, *, user: str, channel: str, reason: str = "checkout errors since 14:05"
    ) -> None:
        """Click a rollback confirmation's button, then send the form it opens with `reason`."""
        before = len(self.slack.views_opened)
        response = await self.driver.click(
            blocks.ROLLBACK, message_ts=ts, user=user, channel=channel, ephemeral=True
        )
        assert response.status_code == 200
        [view] = await eventually(lambda: self.slack.views_opened[before:])
        typed = {history_blocks.REASON_BLOCK: {history_blocks.REASON_INPUT: reason}}
        sent = await self.driver.submit_view(view, typed, user=user)
        assert sent.status_code == 200

    async def tick(self, seconds: float = 1.0) -> None:
        """Let the providers' clock move on, then run one poll as the scheduler would."""
        self.clock.advance(seconds)
        await self.runtime.jobs.poller.poll_once()
        await self.runtime.outbox.idle()


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    """A store of its own on SQLite, migrated, for tests of the outbox without the bot."""
    db = Database(f"sqlite:///{tmp_path / 'outbox.db'}")
    await migrations.upgrade(db)
    yield db
    await db.close()


@pytest.fixture
def stormkit_flavour() -> str:
    """How the Stormkit fake answers: "seed" (the seed doc) or "server" (its server today).

    A module runs on both by overriding this fixture with `params=list(STORMKIT_FLAVOURS)`.
    """
    return "seed"


STORMKIT_FLAVOURS = ("seed", "server")


@pytest.fixture
def fakes_start() -> float:
    """When the providers' clock starts (override with `time.time()` where the bot compares
    the providers' times with its own)."""
    return MANUAL_CLOCK_START


@pytest.fixture
async def served_fakes(
    stormkit_flavour: str, fakes_start: float
) -> AsyncIterator[tuple[ManualClock, FakeSlack, FakeNometria, FakeStormkit, dict[str, Served]]]:
    clock = ManualClock(fakes_start)
    slack = FakeSlack(token=BOT_TOKEN)
    nometria = FakeNometria(api_key=NOMETRIA_KEY, clock=clock, step=1.0)
    stormkit = FakeStormkit(env_key=STORMKIT_KEY, clock=clock, step=1.0, flavour=stormkit_flavour)
    servers = {
        "slack": await serve(slack.app()),
        "nometria": await serve(nometria.app()),
        "stormkit": await serve(stormkit.app()),
    }
    slack.bind(servers["slack"].url)
    yield clock, slack, nometria, stormkit, servers
    for served in servers.values():
        await served.close()


def write_apps(tmp_path: Path, servers: dict[str, Served], extra: str = "") -> Path:
    path = tmp_path / "deploybot.toml"
    text = APPS.format(nometria=servers["nometria"].url, stormkit=servers["stormkit"].url)
    path.write_text(text + extra, encoding="utf-8")
    return path


def settings_for(tmp_path: Path, servers: dict[str, Served], apps: Path) -> Settings:
    return Settings(
        slack_bot_token=SecretStr(BOT_TOKEN),
        slack_signing_secret=SecretStr(SIGNING_SECRET),
        slack_api_url=servers["slack"].url + "/api/",
        deploybot_config=apps,
        deploybot_database_url=f"sqlite:///{tmp_path / 'deploybot.db'}",
        deploybot_poll_interval=3600,  # tests drive polls through World.tick()
        deploybot_channel_pace=0,  # the pacing test sets its own
        deploybot_secret_key=SecretStr(SECRET_KEY),  # overrides may wait (tests/test_sealed.py)
    )


ENVIRON = {"NOMETRIA_API_KEY": NOMETRIA_KEY, "STORMKIT_API_KEY": STORMKIT_KEY}


@pytest.fixture
def apps_extra() -> str:
    """Extra TOML appended to the apps file; override in a test module."""
    return ""


@pytest.fixture
def settings_extra() -> dict[str, Any]:
    """Settings to change for a test module (override this fixture)."""
    return {}


@pytest.fixture(scope="session")
def migrated_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty SQLite store at this code's schema, made once per test process: a `world`
    starts on a copy (its start still checks the schema), instead of running every migration
    again for each test."""
    path = tmp_path_factory.mktemp("migrated") / "deploybot.db"

    async def create() -> None:
        db = Database(f"sqlite:///{path}")
        try:
            await migrations.upgrade(db)
        finally:
            await db.close()

    asyncio.run(create())
    return path


@pytest.fixture
async def world(
    tmp_path: Path,
    served_fakes: Any,
    apps_extra: str,
    settings_extra: dict[str, Any],
    migrated_store: Path,
) -> AsyncIterator[World]:
    clock, slack, nometria, stormkit, servers = served_fakes
    apps = write_apps(tmp_path, servers, apps_extra)
    settings = settings_for(tmp_path, servers, apps).model_copy(update=settings_extra)
    if settings.deploybot_database_url == f"sqlite:///{tmp_path / 'deploybot.db'}":
        shutil.copyfile(migrated_store, tmp_path / "deploybot.db")
    config = configuration.load(settings, environ=ENVIRON)
    wall = WallClock()
    runtime = await Runtime.start(config, clock=wall)
    bot = await serve(runtime.web_app())
    metrics = await serve(runtime.metrics_app())
    async with httpx.AsyncClient(timeout=10, verify=provider_http.tls()) as http:
        driver = SlackDriver(bot.url, SIGNING_SECRET, slack, http)
        yield World(
            clock, slack, nometria, stormkit, runtime, bot.url, driver, http, wall, metrics.url
        )
    await metrics.close()
    await bot.close()
    await runtime.stop()  # waits for listeners that acked and are still working
