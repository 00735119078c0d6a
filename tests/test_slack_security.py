"""Requests that Slack did not sign, or signed long ago, do nothing."""

from __future__ import annotations

import time

from tests.conftest import World


async def test_unsigned_request_is_refused_with_nothing_done(world: World) -> None:
    response = await world.driver.command("web", signed=False)
    assert response.status_code == 401
    assert world.slack.calls_to("chat.postMessage") == []
    assert world.nometria.requests == []


async def test_ten_minute_old_signature_is_refused_with_nothing_done(world: World) -> None:
    response = await world.driver.command("web", timestamp=int(time.time()) - 600)
    assert response.status_code == 401
    assert world.slack.calls_to("chat.postMessage") == []
    assert world.nometria.requests == []


async def test_healthz_reports_store_scheduler_and_slack(world: World) -> None:
    response = await world.http.get(world.url + "/healthz")
    assert response.status_code == 200
    assert response.json() == {"ok": True, "scheduler": True, "store": True, "slack": True}
    assert world.slack.calls_to("auth.test")
