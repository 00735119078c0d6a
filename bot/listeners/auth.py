"""Who the bot is in its one workspace, asked of Slack once.

Bolt's single-team authorization calls auth.test on the first request, once per concurrent
request until one answers: a burst at start-up would send dozens. This asks once and keeps it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from slack_bolt.authorization import AuthorizeResult
from slack_sdk.web.async_client import AsyncWebClient


def one_workspace(client: AsyncWebClient) -> Callable[[], Awaitable[AuthorizeResult]]:
    known: list[AuthorizeResult] = []
    lock = asyncio.Lock()

    async def authorize() -> AuthorizeResult:
        # Bolt calls this with the arguments it names; it needs none.
        if not known:
            async with lock:
                if not known:
                    known.append(
                        AuthorizeResult.from_auth_test_response(
                            bot_token=client.token, auth_test_response=await client.auth_test()
                        )
                    )
        return known[0]

    return authorize
