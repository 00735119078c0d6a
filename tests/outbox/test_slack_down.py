"""A command whose message Slack will not take: the person is told why, in plain words."""

from __future__ import annotations

from tests.conftest import World
from tests.processes import free_port

CHANNEL = "C0DEPLOYS"


async def test_slack_down_when_posting_the_root_is_said_plainly(world: World) -> None:
    world.slack.server_error("chat.postMessage", status=503, times=10)
    told = await world.ask("web", channel=CHANNEL)
    assert "Slack did not answer when I tried to post in this channel" in told
    assert "there is no message or thread for this" in told  # nothing to look for there
    assert world.slack.root_messages(CHANNEL) == []
    assert world.nometria.requests == []


async def test_a_refused_token_when_posting_is_said_plainly(world: World) -> None:
    world.slack.fail("chat.postMessage", "invalid_auth")
    told = await world.ask("web", channel=CHANNEL)
    assert "Slack refused my token (invalid_auth)" in told
    assert "tell whoever runs deploybot" in told
    assert world.nometria.requests == []


async def test_slack_unreachable_when_posting_is_said_plainly(world: World) -> None:
    assert "/deploy" in await world.ask("help")  # Bolt has checked the token once
    world.runtime.slack.base_url = f"http://127.0.0.1:{free_port()}/api/"
    told = await world.ask("web", channel=CHANNEL)
    assert "Slack did not answer when I tried to post in this channel" in told
    assert world.nometria.requests == []
    ready = await world.http.get(world.url + "/readyz")
    assert (ready.status_code, ready.json()) == (503, {"ok": False, "failing": ["slack"]})
    live = await world.http.get(world.url + "/healthz")  # nothing a restart would mend
    assert (live.status_code, live.json()) == (200, {"ok": True})


async def test_a_root_post_whose_connection_dropped_is_said_honestly(world: World) -> None:
    world.slack.drop("chat.postMessage")
    told = await world.ask("web", channel=CHANNEL)
    assert "The connection to Slack dropped while I was posting in this channel" in told
    assert "may or may not be there" in told
    assert world.nometria.requests == []
