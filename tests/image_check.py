"""The built image, started as an operator starts it and checked from inside (.ci/image runs it):

    ./dev python -m tests.image_check --docker /usr/bin/docker --image deploybot:ci

The container runs `deploybot serve` (the image's CMD) on the host's network with a sandbox apps
file mounted, its Slack the fake one (tests/fakes) on loopback. It passes only when Docker's own
HEALTHCHECK says healthy, /healthz and /readyz answer 200 inside the container, `deploybot check`
exits 0 there, and a SIGTERM while it follows a deployment (a signed /deploy, started in Slack's
thread) ends it with exit 0 and "handed over" in its log. Then two containers on one PostgreSQL
(the host's, DEPLOYBOT_TEST_DATABASE_URL, a schema of their own): both start healthy, `check`
names PostgreSQL, and one stopped mid-deployment hands over while the other stays ready.
Exits 1 saying what failed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import BOT_TOKEN, SIGNING_SECRET, eventually, postgres_schema
from tests.fakes.server import serve
from tests.fakes.slack import FakeSlack
from tests.processes import free_port
from tests.slack_client import SlackDriver

CHANNEL = "C0DEPLOYS"
# One step of the sandbox's build is 30 s: the deployment is still followed when SIGTERM comes.
APPS = """\
[providers.sandbox]
base_url = "sandbox://local?step=30"

[apps.web]
provider = "sandbox"
approvers = ["U0LEAD"]
channels = ["C0DEPLOYS"]
"""
PROBE = (
    "import os, sys, urllib.request, urllib.error\n"
    "try:\n"
    "    r = urllib.request.urlopen(f'http://127.0.0.1:{os.environ[\"PORT\"]}' + sys.argv[1], "
    "timeout=4)\n"
    "except urllib.error.HTTPError as e:\n"
    "    r = e\n"
    "print(r.status, r.read().decode())\n"
)


class Failed(Exception):
    """What the container did not do, in words."""


async def until(what: str, check: Callable[[], Any], *, within: float) -> None:
    try:
        await eventually(check, within=within, every=0.5)
    except TimeoutError:
        raise Failed(f"{what}: not within {within:g} s") from None


async def run(*args: str, check: bool = True) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    out, _ = await process.communicate()
    code = process.returncode
    assert code is not None
    text = out.decode(errors="replace")
    if check and code != 0:
        raise Failed(f"`{' '.join(args[:3])} ...` exited {code}:\n{text}")
    return code, text


class Container:
    """One `docker run` of the image on the host's network, with its own PORT."""

    def __init__(self, docker: str, image: str, slack_url: str, apps: Path, **env: str) -> None:
        self.docker, self.image, self.slack_url, self.apps = docker, image, slack_url, apps
        self.port = free_port()
        self.name = f"deploybot-ci-{self.port}"
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = env

    async def start(self) -> None:
        environment = {
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": f"{self.slack_url}/api/",
            "PORT": str(self.port),
            "DEPLOYBOT_METRICS_ADDR": "off",
            **self.env,
        }
        await run(
            self.docker, "run", "--detach", "--name", self.name, "--network", "host",
            *(arg for name, value in environment.items() for arg in ("--env", f"{name}={value}")),
            "--volume", f"{self.apps}:/app/deploybot.toml:ro",
            # the image's own HEALTHCHECK command, asked every second rather than every 30
            "--health-interval", "1s", "--health-start-period", "0s",
            self.image,
        )  # fmt: skip
        self.started = time.monotonic()

    async def state(self) -> dict[str, Any]:
        _, text = await run(self.docker, "inspect", "--format", "{{json .State}}", self.name)
        found: dict[str, Any] = json.loads(text)
        return found

    async def healthy(self) -> None:
        async def now() -> bool:
            state = await self.state()
            if not state["Running"]:
                raise Failed(f"{self.name} stopped: exit {state['ExitCode']}")
            health = state.get("Health")
            return isinstance(health, dict) and health.get("Status") == "healthy"

        await until(f"{self.name}: HEALTHCHECK healthy", now, within=90)
        say(f"HEALTHCHECK: healthy, {time.monotonic() - self.started:.1f} s after `docker run`")

    async def probes(self) -> None:
        for path in ("/healthz", "/readyz"):
            _, answer = await run(self.docker, "exec", self.name, "python", "-c", PROBE, path)
            if not answer.startswith("200 "):
                raise Failed(f"{path} inside the container: {answer}")
            say(f"{path} inside the container: {answer.strip()}")

    async def check(self) -> str:
        code, out = await run(self.docker, "exec", self.name, "deploybot", "check", check=False)
        if code != 0:
            raise Failed(f"`deploybot check` inside the container exited {code}:\n{out}")
        return "; ".join(out.splitlines())

    async def log(self) -> str:
        return (await run(self.docker, "logs", self.name, check=False))[1]

    async def stop(self) -> str:
        """SIGTERM (60 s before a SIGKILL): exit 0 and "handed over" in the log, or Failed."""
        stopping = time.monotonic()
        await run(self.docker, "stop", "--time", "60", self.name)
        stopped, log = await self.state(), await self.log()
        if stopped["ExitCode"] != 0 or stopped.get("OOMKilled"):
            raise Failed(f"after SIGTERM {self.name} exited {stopped['ExitCode']}")
        if "Traceback" in log:
            raise Failed(f"{self.name}'s log has a traceback")
        handed = [line.strip() for line in log.splitlines() if "handed over" in line]
        if not handed:
            raise Failed(f'after SIGTERM {self.name}\'s log does not say "handed over"')
        return f"exit 0 in {time.monotonic() - stopping:.1f} s; {handed[-1]}"

    async def remove(self, *, failed: bool) -> None:
        if failed:
            print(f"--- {self.name}:\n{await self.log()}", file=sys.stderr)  # noqa: T201
        await run(self.docker, "rm", "--force", "--volumes", self.name, check=False)


async def check_image(docker: str, image: str) -> None:
    slack = FakeSlack(token=BOT_TOKEN)
    served = await serve(slack.app())
    slack.bind(served.url)
    apps = Path(tempfile.mkdtemp(prefix="deploybot-image-")) / "deploybot.toml"
    apps.write_text(APPS, encoding="utf-8")
    apps.chmod(0o644)  # the container's user is not this one
    started: list[Container] = []

    async def container(**env: str) -> Container:
        one = Container(docker, image, served.url, apps, **env)
        started.append(one)
        await one.start()
        return one

    async def removed(failed: bool) -> None:
        while started:
            await started.pop().remove(failed=failed)

    try:
        await _alone_on_sqlite(await container(), slack)
        await removed(failed=False)
        async with postgres_schema() as url:
            try:
                first = await container(DEPLOYBOT_DATABASE_URL=url)
                second = await container(DEPLOYBOT_DATABASE_URL=url)
                await _two_on_postgresql(first, second, slack)
            finally:  # before the schema is dropped
                await removed(failed=sys.exc_info()[0] is not None)
    finally:
        await removed(failed=True)
        await served.close()


async def _deploy(bot: Container, slack: FakeSlack) -> None:
    """A signed /deploy web to `bot`, waited for until its thread says it started."""
    before = len(slack.root_messages(CHANNEL))
    async with httpx.AsyncClient(timeout=10) as http:
        driver = SlackDriver(bot.url, SIGNING_SECRET, slack, http)
        response = await driver.command("web", channel=CHANNEL)
        if response.status_code != 200:
            raise Failed(f"/deploy web: HTTP {response.status_code}")

    def started_in_thread() -> bool:
        roots = slack.root_messages(CHANNEL)[before:]
        return any(
            "Started" in text for r in roots for text in slack.texts_in_thread(CHANNEL, r.ts)
        )

    await until("the deployment started in its thread", started_in_thread, within=30)


async def _alone_on_sqlite(bot: Container, slack: FakeSlack) -> None:
    say("one container, its store SQLite in /data")
    await bot.healthy()
    await bot.probes()
    say(f"`deploybot check` inside the container: {await bot.check()}")
    await _deploy(bot, slack)
    say("/deploy web: started, followed by the container")
    say(f"SIGTERM: {await bot.stop()}")


async def _two_on_postgresql(first: Container, second: Container, slack: FakeSlack) -> None:
    """Two replicas of the image on one PostgreSQL (the host's): both migrate and start, and one
    stopping mid-deployment hands it over while the other goes on."""
    say("two containers on one PostgreSQL")
    await first.healthy()
    await second.healthy()
    checked = await first.check()
    if "store: answers (postgresql+psycopg://" not in checked:
        raise Failed(f"`deploybot check` does not name PostgreSQL as the store: {checked}")
    say(f"`deploybot check` inside the first: {checked}")
    await _deploy(first, slack)
    say(f"SIGTERM to the first: {await first.stop()}")
    await second.probes()
    say("the second goes on")


def say(text: str) -> None:
    print(f"image_check: {text}", flush=True)  # noqa: T201


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--docker", default="docker")
    parser.add_argument("--image", default="deploybot:ci")
    args = parser.parse_args()
    try:
        asyncio.run(check_image(args.docker, args.image))
    except (Failed, pytest.fail.Exception, pytest.skip.Exception) as exc:  # no PostgreSQL
        print(f"image_check: FAILED: {exc}", file=sys.stderr)  # noqa: T201
        sys.exit(1)


if __name__ == "__main__":
    main()
