"""`deploybot check` and `serve` as an operator runs them."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path
from typing import Any

import httpx
from aiohttp import web

from tests.conftest import BOT_TOKEN, ENVIRON, SIGNING_SECRET, eventually, write_apps
from tests.fakes.slack import FakeSlack
from tests.processes import free_port, spawn_bot, start_bot


async def _check(tmp_path: Path, apps: Path, **env: str) -> tuple[int, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DEPLOYBOT_"))}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "check",
        env=base | ENVIRON | {"DEPLOYBOT_CONFIG": str(apps)} | env,
        cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await process.communicate()
    assert process.returncode is not None
    return process.returncode, out.decode()


async def test_check_lists_the_apps_and_tests_each_key(tmp_path: Path, served_fakes: Any) -> None:
    _, _, nometria, stormkit, servers = served_fakes
    apps = write_apps(tmp_path, servers)
    slack = {"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_API_URL": servers["slack"].url + "/api/"}
    code, out = await _check(tmp_path, apps, **slack)
    assert code == 0, out
    assert "slack: token works (the bot is @" in out
    assert "store: answers (sqlite" in out
    assert "web: nometria, no approval; key works" in out
    assert "blog: stormkit, approval by U0LEAD, U0LEAD2; key works" in out
    assert nometria.requests_to("GET", "/v1/deployments")
    assert stormkit.requests_to("GET", "/v1/deployments")
    assert "WARNING" not in out  # every approval app here has two approvers

    solo = '\n[apps.solo]\nprovider = "sandbox"\napproval = true\napprovers = ["U0LEAD"]\n'
    apps.write_text(apps.read_text(encoding="utf-8") + solo, encoding="utf-8")
    code, out = await _check(tmp_path, apps, **slack)
    assert code == 0, out  # a warning, not a failure
    assert "solo: WARNING: U0LEAD is its only approver and may deploy it" in out

    code, out = await _check(tmp_path, apps, STORMKIT_API_KEY="sk-wrong", **slack)
    assert code == 1
    assert "docs: stormkit, no approval; PROBLEM: Stormkit refused the API key" in out
    assert "sk-wrong" not in out


async def test_check_says_a_404_most_likely_means_env_id_or_key_scope(
    tmp_path: Path, served_fakes: Any
) -> None:
    """An app-level key with an env_id it cannot see: check points at env_id and the key."""
    _, _, _, _, servers = served_fakes
    apps = write_apps(tmp_path, servers)
    apps.write_text(apps.read_text().replace('env_id = "305"', 'env_id = "999"'))
    code, out = await _check(tmp_path, apps, STORMKIT_API_KEY="sk-app-key")
    assert code == 1
    assert (
        "docs: stormkit, no approval; PROBLEM: Stormkit found no such environment or deployment "
        "for this key: most likely env_id 999 is wrong, or the key belongs to another app, "
        "team or environment"
    ) in out


async def test_serve_stops_cleanly_on_sigterm(tmp_path: Path, served_fakes: Any) -> None:
    _, _, _, _, servers = served_fakes
    apps = write_apps(tmp_path, servers)
    bot = await start_bot(
        tmp_path,
        name="bot",
        apps=apps,
        slack_url=servers["slack"].url,
        database_url=f"sqlite:///{tmp_path / 'db.sqlite'}",
    )
    async with httpx.AsyncClient() as http:
        metrics = await http.get(bot.url + "/metrics")
        assert "deploybot_poll_tick_seconds" in metrics.text
    bot.process.terminate()
    assert await bot.process.wait() == 0
    assert "stopping" in bot.output()
    assert SIGNING_SECRET not in bot.output()


async def test_check_tests_the_slack_token_and_the_store(tmp_path: Path, served_fakes: Any) -> None:
    _, _, _, _, servers = served_fakes
    apps = write_apps(tmp_path, servers)
    slack_url = servers["slack"].url + "/api/"
    code, out = await _check(
        tmp_path, apps, SLACK_BOT_TOKEN="xoxb-garbage", SLACK_API_URL=slack_url
    )
    assert code == 1
    assert "slack: PROBLEM: Slack refused SLACK_BOT_TOKEN (invalid_auth)" in out
    assert "xoxb-garbage" not in out

    closed = f"http://127.0.0.1:{free_port()}/api/"
    code, out = await _check(tmp_path, apps, SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_API_URL=closed)
    assert code == 1
    assert f"slack: PROBLEM: Slack does not answer at {closed}" in out

    code, out = await _check(tmp_path, apps, SLACK_API_URL=slack_url)
    assert code == 1
    assert "slack: PROBLEM: SLACK_BOT_TOKEN is not set" in out

    database = f"postgresql://postgres:s3cret@127.0.0.1:{free_port()}/test"
    code, out = await _check(
        tmp_path,
        apps,
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_API_URL=slack_url,
        DEPLOYBOT_DATABASE_URL=database,
    )
    assert code == 1
    assert "slack: token works" in out
    store_line = next(line for line in out.splitlines() if line.startswith("store:"))
    assert store_line.startswith("store: PROBLEM: DEPLOYBOT_DATABASE_URL: cannot open the store")
    assert "s3cret" not in out
    assert "Traceback" not in out


async def _run(tmp_path: Path, command: str, **env: str) -> tuple[int, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DEPLOYBOT_"))}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        command,
        env=base | ENVIRON | env,
        cwd=tmp_path,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    async with asyncio.timeout(30):
        out, _ = await process.communicate()
    assert process.returncode is not None
    return process.returncode, out.decode()


async def test_a_bad_database_url_is_one_line(tmp_path: Path, served_fakes: Any) -> None:
    _, _, _, _, servers = served_fakes
    apps = write_apps(tmp_path, servers)
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    env = {
        "DEPLOYBOT_CONFIG": str(apps),
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": servers["slack"].url + "/api/",
        "PORT": str(free_port()),
    }
    cases = {
        "mysql://x": "is not a database URL this bot can use",
        "nonsense": "is not a database URL this bot can use",
        f"postgresql://postgres@127.0.0.1:{free_port()}/test": "cannot open the store",
        f"sqlite:///{tmp_path}/no/such/dir/db.sqlite": "cannot open the store",
    }
    if os.geteuid() != 0:  # root writes anywhere
        cases[f"sqlite:///{locked}/db.sqlite"] = "cannot open the store"
    for url, problem in cases.items():
        for command in ("serve", "check", "console"):
            code, out = await _run(tmp_path, command, DEPLOYBOT_DATABASE_URL=url, **env)
            assert code == 1, (command, url, out)
            lines = [line for line in out.splitlines() if line.startswith("deploybot:")]
            if command == "check":
                lines = [line for line in out.splitlines() if line.startswith("store:")]
            assert len(lines) == 1, (command, url, out)
            assert problem in lines[0], (command, url, out)
            assert "Traceback" not in out, (command, url, out)


async def test_serve_refuses_a_token_slack_does_not_take(tmp_path: Path, served_fakes: Any) -> None:
    _, _, _, _, servers = served_fakes
    apps = write_apps(tmp_path, servers)
    bot = await spawn_bot(
        tmp_path,
        name="bot",
        apps=apps,
        slack_url=servers["slack"].url,
        database_url=f"sqlite:///{tmp_path / 'db.sqlite'}",
        SLACK_BOT_TOKEN="xoxb-garbage",
    )
    async with asyncio.timeout(30):
        assert await bot.process.wait() == 1
    out = bot.output()
    assert "deploybot: Slack refused SLACK_BOT_TOKEN (invalid_auth)" in out
    assert "Traceback" not in out
    assert "xoxb-garbage" not in out


async def test_serve_waits_for_an_unreachable_slack_and_says_so_once(tmp_path: Path) -> None:
    port = free_port()
    apps = tmp_path / "apps.toml"
    apps.write_text('[apps.web]\nprovider = "sandbox"\n', encoding="utf-8")
    bot = await spawn_bot(
        tmp_path,
        name="bot",
        apps=apps,
        slack_url=f"http://127.0.0.1:{port}",
        database_url=f"sqlite:///{tmp_path / 'db.sqlite'}",
    )
    slack_runner = None
    try:
        async with httpx.AsyncClient(timeout=30) as http:

            async def health() -> httpx.Response | None:
                assert bot.process.returncode is None, bot.output()
                try:
                    return await http.get(bot.url + "/healthz")
                except httpx.TransportError:
                    return None

            down = await eventually(health, within=30)
            assert down.status_code == 503
            assert down.json()["slack"] is False
            assert down.json()["store"] is True
            await eventually(lambda: "Slack does not answer" in bot.output(), within=30)

            slack = FakeSlack(token=BOT_TOKEN)
            slack_runner = web.AppRunner(slack.app(), access_log=None)
            await slack_runner.setup()
            await web.TCPSite(slack_runner, "127.0.0.1", port).start()

            async def healthy() -> bool:
                response = await health()
                return response is not None and response.status_code == 200

            await eventually(healthy, within=30, every=0.5)
            await eventually(lambda: "serving 1 app:" in bot.output(), within=30)
    finally:
        await bot.stop()
        if slack_runner is not None:
            await slack_runner.cleanup()
    out = bot.output()
    assert out.count("Slack does not answer") == 1, out
    assert "Slack answers: the bot is @" in out
    assert "will be unused" not in out
    assert "Traceback" not in out


async def test_check_says_an_unreachable_provider_without_retry_noise(
    tmp_path: Path, served_fakes: Any
) -> None:
    _, _, _, _, servers = served_fakes
    apps = tmp_path / "apps.toml"
    apps.write_text(
        f'[providers.nometria]\nbase_url = "http://127.0.0.1:{free_port()}"\n'
        '[apps.web]\nprovider = "nometria"\nproject_id = "p1"\n',
        encoding="utf-8",
    )
    code, out = await _check(
        tmp_path,
        apps,
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_API_URL=servers["slack"].url + "/api/",
    )
    assert code == 1
    assert "web: nometria, no approval; PROBLEM:" in out
    assert "stamina" not in out
    assert len(out.splitlines()) == 3, out  # the app, Slack, the store
