"""Who the bot is is asked of Slack once, not on the way of each request's ack."""

from __future__ import annotations

import asyncio
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from bot.listeners.workspace import OneWorkspace
from tests.conftest import BOT_TOKEN, World, eventually
from tests.fakes.slack import FakeSlack


async def test_a_burst_of_commands_asks_auth_test_once(world: World) -> None:
    """Twenty commands at once right after a start: one auth.test, the start-up's, for all."""
    answers = await asyncio.gather(*(world.driver.command("status web") for _ in range(20)))
    assert [a.status_code for a in answers] == [200] * 20
    await eventually(lambda: sum(map(len, world.slack.responses.values())) == 20)
    assert len(world.slack.calls_to("auth.test")) == 1


async def test_requests_before_the_answer_wait_for_the_same_question(
    served_fakes: Any,
) -> None:
    """Requests that come while auth.test is unanswered share it, and all get the bot's
    identity, with the bot token for the calls they make."""
    slack: FakeSlack = served_fakes[1]
    slack.hold("auth.test")
    client = AsyncWebClient(token=BOT_TOKEN, base_url=slack.api_url)
    workspace = OneWorkspace(client)
    waiting = [asyncio.ensure_future(workspace()) for _ in range(10)]
    await eventually(lambda: slack.held)
    slack.release()
    results = await asyncio.gather(*waiting)
    assert len(slack.calls_to("auth.test")) == 1
    assert all(result == results[0] for result in results)
    assert results[0].bot_token == BOT_TOKEN
    assert results[0].bot_user_id
    assert results[0].team_id


async def test_a_failed_question_is_asked_again_by_the_next_request(served_fakes: Any) -> None:
    """Slack down at start-up: the first request after it asks again, and is authorized."""
    slack: FakeSlack = served_fakes[1]
    slack.server_error("auth.test", times=1)
    workspace = OneWorkspace(AsyncWebClient(token=BOT_TOKEN, base_url=slack.api_url))
    started = workspace.ask()
    await asyncio.wait([started])
    assert started.exception() is not None
    result = await workspace()
    assert result.bot_token == BOT_TOKEN
    assert len(slack.calls_to("auth.test")) == 2
