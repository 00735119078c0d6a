"""/healthz and /readyz on the port Slack posts to, /metrics on its own address
(DEPLOYBOT_METRICS_ADDR).

/healthz is liveness: the process answers, its scheduler runs and its store answers; restart it
when it fails. /readyz is readiness: all that, and Slack takes the token; send it Slack's traffic
when it passes. A Slack outage fails readiness only, so an orchestrator does not restart every
replica (and cut the polling of deployments under way) for something a restart cannot mend.
Both stay where Slack posts, where a load balancer probes, and tell no more than ok or which part
fails. /metrics says how the bot is used (apps, outcomes, errors): it is
served on an address of its own, loopback by default, and nothing else is served there.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from bot.config import ConfigError
from bot.config.settings import Settings
from bot.metrics import REGISTRY

log = logging.getLogger(__name__)

Check = Callable[[], Awaitable[bool]]
# Seconds a check that costs a call (Slack's auth.test) reuses its last answer: a load balancer
# probing every second must not make a Slack call a second per replica.
CACHE_SECONDS = 5.0


def cached(
    check: Check, seconds: float = CACHE_SECONDS, *, clock: Callable[[], float] = time.monotonic
) -> Check:
    """`check`, asked at most once every `seconds`; meanwhile its last answer stands (one
    that raised stands as failed). Probes arriving together wait for one answer."""
    last: tuple[float, bool] | None = None
    asking = asyncio.Lock()

    async def answer() -> bool:
        nonlocal last
        async with asking:
            if last is not None and clock() - last[0] < seconds:
                return last[1]
            asked = clock()
            try:
                passes = await check()
            except Exception:
                last = (asked, False)
                raise
            last = (asked, passes)
            return passes

    return answer


def add_health(app: web.Application, live: Mapping[str, Check], ready: Mapping[str, Check]) -> None:
    """GET /healthz asks the `live` checks, GET /readyz those and the `ready` ones: each answers
    200 {"ok": true}, or 503 {"ok": false, "failing": [the parts down]}."""
    app.router.add_get("/healthz", _probe(live))
    app.router.add_get("/readyz", _probe({**live, **ready}))


def _probe(checks: Mapping[str, Check]) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def probe(_: web.Request) -> web.Response:
        failing = [name for name, check in checks.items() if not await _passes(name, check)]
        if failing:
            return web.json_response({"ok": False, "failing": failing}, status=503)
        return web.json_response({"ok": True})

    return probe


async def _passes(name: str, check: Check) -> bool:
    try:
        return await check()
    except Exception as exc:  # noqa: BLE001 - any failure of a part is "down" to a health check
        log.debug("health check: %s fails: %s", name, exc)
        return False


def metrics_app(refresh: Callable[[], Awaitable[None]]) -> web.Application:
    """GET /metrics (Prometheus text), and nothing else; `refresh` sets the gauges first."""

    async def metrics(_: web.Request) -> web.Response:
        await refresh()
        return web.Response(
            body=generate_latest(REGISTRY), headers={"Content-Type": CONTENT_TYPE_LATEST}
        )

    app = web.Application()
    app.router.add_get("/metrics", metrics)
    return app


async def serve_metrics(runner: web.AppRunner, settings: Settings) -> None:
    """/metrics on its own address; ConfigError in one line if it cannot listen there."""
    address = settings.metrics_address
    if address is None:
        return
    await runner.setup()
    try:
        await web.TCPSite(runner, *address).start()
    except OSError as exc:
        raise ConfigError(
            f"environment: DEPLOYBOT_METRICS_ADDR: cannot listen on "
            f"{settings.deploybot_metrics_addr}: {exc.strerror or exc}"
        ) from None
