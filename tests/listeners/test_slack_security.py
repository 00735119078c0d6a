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


async def test_healthz_says_ok_and_no_more(world: World) -> None:
    """/healthz asks the store and the scheduler, /readyz Slack too; both tell only "ok"."""
    asked = len(world.slack.calls_to("auth.test"))
    response = await world.http.get(world.url + "/healthz")
    assert (response.status_code, response.json()) == (200, {"ok": True})
    assert len(world.slack.calls_to("auth.test")) == asked  # liveness never asks Slack
    response = await world.http.get(world.url + "/readyz")
    assert (response.status_code, response.json()) == (200, {"ok": True})
    world.runtime.jobs.scheduler.shutdown(wait=False)
    for path in ("/healthz", "/readyz"):
        response = await world.http.get(world.url + path)
        assert response.status_code == 503
        assert response.json() == {"ok": False, "failing": ["scheduler"]}
