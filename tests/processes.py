"""Run `deploybot serve` as a real process, as an operator would, for restart and replica tests."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from dataclasses import dataclass
from pathlib import Path

import httpx
import psycopg

from tests.conftest import BOT_TOKEN, ENVIRON, SIGNING_SECRET, eventually


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class BotProcess:
    process: asyncio.subprocess.Process
    url: str
    log: Path
    metrics_url: str  # DEPLOYBOT_METRICS_ADDR, as a URL

    async def kill(self) -> None:
        """SIGKILL: no shutdown, no cleanup, as when a node dies."""
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGKILL)
        await self.process.wait()

    async def stop(self) -> None:
        if self.process.returncode is None:
            self.process.terminate()
            try:
                async with asyncio.timeout(10):
                    await self.process.wait()
            except TimeoutError:
                await self.kill()

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


async def start_bot(
    tmp: Path, *, name: str, apps: Path, slack_url: str, database_url: str, **extra: str
) -> BotProcess:
    bot = await spawn_bot(
        tmp, name=name, apps=apps, slack_url=slack_url, database_url=database_url, **extra
    )
    async with httpx.AsyncClient() as http:

        async def healthy() -> bool:
            if bot.process.returncode is not None:
                raise AssertionError(f"{name} exited:\n{bot.output()}")
            try:
                return (await http.get(bot.url + "/readyz")).status_code == 200
            except httpx.TransportError:
                return False

        await eventually(healthy, within=30)
    return bot


async def spawn_bot(
    tmp: Path, *, name: str, apps: Path, slack_url: str, database_url: str, **extra: str
) -> BotProcess:
    """`deploybot serve` started, not yet waited for."""
    port = free_port()
    metrics = f"127.0.0.1:{free_port()}"  # replicas on one machine: each its own
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DEPLOYBOT_"))}
    env |= ENVIRON | {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": slack_url + "/api/",
        "DEPLOYBOT_CONFIG": str(apps),
        "DEPLOYBOT_DATABASE_URL": database_url,
        "DEPLOYBOT_POLL_INTERVAL": "0.2",
        "DEPLOYBOT_CHANNEL_PACE": "0",
        "PORT": str(port),
        "DEPLOYBOT_METRICS_ADDR": metrics,
        **extra,
    }
    log = tmp / f"{name}.log"
    with log.open("wb") as out:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "serve", env=env, cwd=tmp, stdout=out, stderr=out
        )
    return BotProcess(process, f"http://127.0.0.1:{port}", log, f"http://{metrics}")


async def sending_post(url: str) -> tuple[int, str] | None:
    """The reply a replica is sending now (taken, not recorded as sent): its id and owner."""
    async with await psycopg.AsyncConnection.connect(url) as conn:
        rows = await conn.execute(
            "SELECT id, owner FROM outbox WHERE kind = 'post' AND state = 'sending'"
        )
        found = await rows.fetchall()
    return (int(found[0][0]), str(found[0][1])) if found else None


async def sent_by(url: str, row_id: int, bot: BotProcess) -> bool:
    """Whether outbox row `row_id` is recorded as sent by `bot`'s process."""
    async with await psycopg.AsyncConnection.connect(url) as conn:
        rows = await conn.execute("SELECT state, owner FROM outbox WHERE id = %s", (row_id,))
        state, owner = await rows.fetchone() or (None, None)
    return state == "sent" and f":{bot.process.pid}:" in str(owner)
