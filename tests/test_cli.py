"""`deploybot check` and `serve` as an operator runs them."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path
from typing import Any

import httpx

from tests.conftest import ENVIRON, SIGNING_SECRET, write_apps
from tests.processes import start_bot


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
    code, out = await _check(tmp_path, apps)
    assert code == 0, out
    assert "web: nometria, no approval; key works" in out
    assert "blog: stormkit, approval by U0LEAD, U0LEAD2; key works" in out
    assert nometria.requests_to("GET", "/v1/deployments")
    assert stormkit.requests_to("GET", "/v1/deployments")

    code, out = await _check(tmp_path, apps, STORMKIT_API_KEY="sk-wrong")
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
