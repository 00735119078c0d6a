"""`deploybot check` and `serve` as an operator runs them."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tomllib
from importlib import metadata
from pathlib import Path
from typing import Any

import httpx
import pytest
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
        env=base | ENVIRON | {"DEPLOYBOT_CONFIG": str(apps), "SLACK_SIGNING_SECRET": "s"} | env,
        cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await process.communicate()
    assert process.returncode is not None
    return process.returncode, out.decode()


@pytest.mark.slow  # real processes, seconds of waiting: CI runs it too (`-m slow`)
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
    solo += 'announce = "C0DEPLOYS"\nrepo = "https://github.com/acme/solo"\n'
    apps.write_text(apps.read_text(encoding="utf-8") + solo, encoding="utf-8")
    code, out = await _check(tmp_path, apps, **slack)
    assert code == 0, out  # a warning, not a failure
    assert "solo: WARNING: U0LEAD is its only approver and may deploy it" in out
    assert (
        "solo: sandbox, approval by U0LEAD, deployments started outside Slack announced in "
        "C0DEPLOYS, repo https://github.com/acme/solo; key works"
    ) in out

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


@pytest.mark.slow
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
        metrics = await http.get(bot.metrics_url + "/metrics")
        assert "deploybot_poll_tick_seconds" in metrics.text
    bot.process.terminate()
    assert await bot.process.wait() == 0
    assert "stopping" in bot.output()
    assert SIGNING_SECRET not in bot.output()


@pytest.mark.slow  # real processes, seconds of waiting: CI runs it too (`-m slow`)
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


@pytest.mark.slow  # real processes, seconds of waiting: CI runs it too (`-m slow`)
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


@pytest.mark.slow  # real processes, seconds of waiting: CI runs it too (`-m slow`)
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

            async def probe(path: str) -> httpx.Response | None:
                assert bot.process.returncode is None, bot.output()
                try:
                    return await http.get(bot.url + path)
                except httpx.TransportError:
                    return None

            async def health() -> httpx.Response | None:
                return await probe("/readyz")

            # Slack down: alive (no restart, polling goes on), not ready for Slack's traffic
            live = await eventually(lambda: probe("/healthz"), within=30)
            assert (live.status_code, live.json()) == (200, {"ok": True})
            down = await eventually(health, within=30)
            assert down.status_code == 503
            assert down.json() == {"ok": False, "failing": ["slack"]}
            await eventually(lambda: "Slack does not answer" in bot.output(), within=30)

            slack = FakeSlack(token=BOT_TOKEN)
            slack_runner = web.AppRunner(slack.app(), access_log=None)
            await slack_runner.setup()
            await web.TCPSite(slack_runner, "127.0.0.1", port).start()

            async def healthy() -> bool:
                response = await health()
                return response is not None and response.status_code == 200

            await eventually(healthy, within=30, every=0.5)
            await eventually(lambda: "Slack answers: the bot is @" in bot.output(), within=30)
    finally:
        await bot.stop()
        if slack_runner is not None:
            await slack_runner.cleanup()
    out = bot.output()
    assert out.count("Slack does not answer") == 1, out
    assert "Slack answers: the bot is @" in out
    assert "will be unused" not in out
    assert "Traceback" not in out


@pytest.mark.slow
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


def test_version_is_the_installed_package_version(tmp_path: Path) -> None:
    """`deploybot --version`, as the installed script runs, with no settings at all."""
    project = tomllib.loads((Path(__file__).parents[2] / "pyproject.toml").read_text("utf-8"))
    script = Path(sys.executable).parent / "deploybot"
    bare = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DEPLOYBOT_"))}
    done = subprocess.run(  # noqa: S603 (the project's own script)
        [str(script), "--version"],
        env=bare,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"deploybot {project['project']['version']}\n"
    assert done.stdout == f"deploybot {metadata.version('deploybot')}\n"


@pytest.mark.slow
async def test_start_and_stop_say_what_they_do_while_slack_is_unreachable(tmp_path: Path) -> None:
    """Serving, what Slack's silence means, the signal, and what was handed over: all in the
    log though Slack never answers; SIGTERM still ends it with exit 0."""
    apps = tmp_path / "apps.toml"
    apps.write_text('[apps.web]\nprovider = "sandbox"\n[apps.api]\nprovider = "sandbox"\n')
    bot = await spawn_bot(
        tmp_path,
        name="bot",
        apps=apps,
        slack_url=f"http://127.0.0.1:{free_port()}",
        database_url=f"sqlite:///{tmp_path / 'db.sqlite'}",
    )
    try:
        await eventually(lambda: "Slack does not answer" in bot.output(), within=30)
        port = bot.url.rsplit(":", 1)[1]
        assert (
            f"deploybot serving 2 apps (api, web): Slack over HTTP at /slack/events on port {port}"
            in bot.output()
        )
        assert "deployments are still followed, and what the bot has to say waits" in bot.output()
        bot.process.terminate()
        async with asyncio.timeout(30):
            assert await bot.process.wait() == 0
    finally:
        await bot.stop()
    out = bot.output()
    assert "deploybot stopping (SIGTERM): finishing what was acknowledged" in out
    assert (
        "deploybot stopped: handed over nothing: no deployment in flight here, every message sent"
    ) in out
    assert "Traceback" not in out
