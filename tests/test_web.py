"""/metrics on its own address (DEPLOYBOT_METRICS_ADDR), /healthz on Slack's port saying no more
than ok or which part fails: `deploybot serve` as an operator runs it."""

from __future__ import annotations

import asyncio
import re
import socket
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiohttp import web

from bot.config.addresses import host_port, split
from bot.web import add_health, cached
from tests.conftest import SIGNING_SECRET, write_apps
from tests.fakes.server import serve
from tests.processes import free_port, spawn_bot, start_bot


def listening(pid: int) -> set[int]:
    """The TCP ports a process listens on, read from /proc (its sockets' inodes)."""
    fds = Path(f"/proc/{pid}/fd")
    inodes = {
        link.removeprefix("socket:[").rstrip("]")
        for link in (str(fd.readlink()) for fd in fds.iterdir())
        if link.startswith("socket:[")
    }
    ports = set()
    for table in ("tcp", "tcp6"):
        for line in Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A" and fields[9] in inodes:  # 0A: LISTEN
                ports.add(int(fields[1].rsplit(":", 1)[1], 16))
    return ports


async def test_metrics_are_served_on_their_own_address_only(
    tmp_path: Path, served_fakes: Any
) -> None:
    _, _, _, _, servers = served_fakes
    bot = await start_bot(
        tmp_path,
        name="bot",
        apps=write_apps(tmp_path, servers),
        slack_url=servers["slack"].url,
        database_url=f"sqlite:///{tmp_path / 'db.sqlite'}",
    )
    try:
        async with httpx.AsyncClient() as http:
            scraped = await http.get(bot.metrics_url + "/metrics")
            assert scraped.status_code == 200
            assert "deploybot_poll_tick_seconds" in scraped.text
            assert (await http.get(bot.url + "/metrics")).status_code == 404
            assert (await http.get(bot.metrics_url + "/healthz")).status_code == 404
            assert (await http.get(bot.metrics_url + "/slack/events")).status_code == 404
            health = await http.get(bot.url + "/healthz")
            assert (health.status_code, health.json()) == (200, {"ok": True})
            ports = {int(url.rsplit(":", 1)[1]) for url in (bot.url, bot.metrics_url)}
            assert listening(bot.process.pid) == ports
    finally:
        await bot.stop()
    assert f"metrics: {bot.metrics_url.removeprefix('http://')}" in bot.output()


async def test_metrics_off_serves_them_nowhere(tmp_path: Path, served_fakes: Any) -> None:
    _, _, _, _, servers = served_fakes
    bot = await start_bot(
        tmp_path,
        name="bot",
        apps=write_apps(tmp_path, servers),
        slack_url=servers["slack"].url,
        database_url=f"sqlite:///{tmp_path / 'db.sqlite'}",
        DEPLOYBOT_METRICS_ADDR="off",
    )
    try:
        async with httpx.AsyncClient() as http:
            assert (await http.get(bot.url + "/metrics")).status_code == 404
            assert listening(bot.process.pid) == {int(bot.url.rsplit(":", 1)[1])}
    finally:
        await bot.stop()
    assert "metrics: off" in bot.output()


async def exits(tmp_path: Path, **extra: str) -> str:
    """`deploybot serve` with these settings, which must stop it at start: what it said."""
    apps = tmp_path / "apps.toml"
    apps.write_text('[apps.web]\nprovider = "sandbox"\n', encoding="utf-8")
    bot = await spawn_bot(
        tmp_path,
        name="bot",
        apps=apps,
        slack_url=f"http://127.0.0.1:{free_port()}",
        database_url=f"sqlite:///{tmp_path / 'db.sqlite'}",
        **extra,
    )
    async with asyncio.timeout(30):
        assert await bot.process.wait() == 1
    return bot.output()


@pytest.mark.slow
@pytest.mark.parametrize("value", ["9464", "metrics.internal", "127.0.0.1:99999", "::1:9464"])
async def test_a_bad_metrics_address_stops_serve_in_one_line(tmp_path: Path, value: str) -> None:
    out = await exits(tmp_path, DEPLOYBOT_METRICS_ADDR=value)
    assert out.splitlines() == [
        f'deploybot: environment: DEPLOYBOT_METRICS_ADDR: "{value}" is not host:port, like '
        '"127.0.0.1:9464" or "[::1]:9464" ("off": none)'
    ]


async def test_a_metrics_address_in_use_stops_serve_in_one_line(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        address = f"127.0.0.1:{taken.getsockname()[1]}"
        out = await exits(tmp_path, DEPLOYBOT_METRICS_ADDR=address)
    last = out.strip().splitlines()[-1]
    assert last.startswith(
        f"deploybot: environment: DEPLOYBOT_METRICS_ADDR: cannot listen on {address}"
    )
    assert "Traceback" not in out
    assert SIGNING_SECRET not in out


@pytest.mark.parametrize("port", ["²", "\u0669\u0664\u0666\u0664", "①"])
def test_a_port_in_other_digits_is_refused_in_words(port: str) -> None:
    """Digits to str.isdigit() that int() raises on ("²") or reads (Arabic-Indic 9464)."""
    with pytest.raises(ValueError, match=re.escape('is not host:port, like "127.0.0.1:9464"')):
        host_port(f"127.0.0.1:{port}")


def test_addresses_an_operator_may_write() -> None:
    everywhere = "0.0.0.0"  # noqa: S104 - parsed here, nothing is bound
    assert split(host_port(f" {everywhere}:9464 ")) == (everywhere, 9464)
    assert split(host_port("[::1]:9464")) == ("::1", 9464)
    assert split(host_port("metrics.internal:9100")) == ("metrics.internal", 9100)
    assert host_port("off") == host_port("OFF") == host_port("") == ""


async def test_a_failing_part_is_named_and_nothing_more() -> None:
    """A store that fails with its address and password in the error: /healthz names the
    part only, so an unauthenticated probe learns nothing about the inside."""

    async def store() -> bool:
        raise OSError("connection to db.internal:5432 as admin:hunter2 refused")

    async def fine() -> bool:
        return True

    app = web.Application()
    add_health(app, {"store": store, "scheduler": fine}, {"slack": fine})
    served = await serve(app)
    try:
        async with httpx.AsyncClient() as http:
            responses = [await http.get(served.url + path) for path in ("/healthz", "/readyz")]
    finally:
        await served.close()
    for response in responses:
        assert response.status_code == 503
        assert response.content == b'{"ok": false, "failing": ["store"]}'


class Asked:
    """A part's check that counts how often it is asked, answering as told."""

    def __init__(self) -> None:
        self.times = 0
        self.answer: bool | Exception = True

    async def __call__(self) -> bool:
        self.times += 1
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


async def test_a_cached_check_is_asked_at_most_every_five_seconds() -> None:
    """Slack's auth.test behind /readyz: a probe a second asks it once in five; a failure, or
    a check that raised, stands as failed for as long."""
    now = [100.0]
    slack = Asked()
    check = cached(slack, 5.0, clock=lambda: now[0])
    assert await check() is True
    now[0] += 4.9
    slack.answer = False
    assert await check() is True  # the last answer stands
    assert slack.times == 1
    now[0] += 0.1
    assert await check() is False  # five seconds on: asked again
    slack.answer = OSError("Slack is down")
    now[0] += 5
    with pytest.raises(OSError, match="Slack is down"):
        await check()
    slack.answer = True
    now[0] += 1
    assert await check() is False  # the failure stands its five seconds
    assert slack.times == 3
    now[0] += 5
    results = await asyncio.gather(*(check() for _ in range(10)))  # probes at one instant
    assert results == [True] * 10
    assert slack.times == 4  # one asked; the others waited for its answer


async def test_readyz_asks_slack_once_for_probes_in_a_row() -> None:
    """Through /readyz as a load balancer probes it: five probes, one auth.test."""
    slack = Asked()

    async def fine() -> bool:
        return True

    app = web.Application()
    standing = cached(slack, clock=lambda: 0.0)  # the clock stands: no five seconds pass
    add_health(app, {"store": fine, "scheduler": fine}, {"slack": standing})
    served = await serve(app)
    try:
        async with httpx.AsyncClient() as http:
            statuses = [(await http.get(served.url + "/readyz")).status_code for _ in range(5)]
    finally:
        await served.close()
    assert statuses == [200] * 5
    assert slack.times == 1
