"""Who the bot is in its one workspace, for Bolt's authorization: asked of Slack once.

Bolt's single-team authorization asks `auth.test` on the first request, and again for every
request that comes in before the answer: a burst of commands right after a start sent dozens,
each ack waiting for its own answer. Here the question is asked at start-up, and a request that
comes before the answer waits for that same question. Every waiter wakes on the same turn of the
event loop when it is answered; a lock around the question (tried once, bench/README.md §1) woke
them one turn each, a queue that grew with each request in the burst.
"""

from __future__ import annotations

import asyncio
from typing import Any

from slack_bolt.authorization import AuthorizeResult
from slack_bolt.authorization.async_authorize import AsyncAuthorize
from slack_sdk.web.async_client import AsyncWebClient


class OneWorkspace(AsyncAuthorize):
    def __init__(self, client: AsyncWebClient) -> None:
        self._client = client
        self._answer: asyncio.Task[AuthorizeResult] | None = None

    def ask(self) -> asyncio.Task[AuthorizeResult]:
        """The one auth.test, under way or answered; asked again if the last one failed."""
        answer = self._answer
        if answer is None or (answer.done() and (answer.cancelled() or answer.exception())):
            answer = asyncio.get_running_loop().create_task(self._auth_test())
            answer.add_done_callback(_seen)
            self._answer = answer
        return answer

    def close(self) -> None:
        if self._answer is not None:
            self._answer.cancel()

    async def __call__(self, **_: Any) -> AuthorizeResult:
        # shield: a request given up on does not cancel the question the others wait for
        return await asyncio.shield(self.ask())

    async def _auth_test(self) -> AuthorizeResult:
        answer = await self._client.auth_test()
        return AuthorizeResult.from_auth_test_response(
            bot_token=self._client.token,
            bot_scopes=answer.headers.get("x-oauth-scopes"),
            auth_test_response=answer,
        )


def _seen(answer: asyncio.Task[AuthorizeResult]) -> None:
    """A failed question is asked again by the next request, which gets its error; the one at
    start-up has no one waiting, and asyncio would log its error as never retrieved."""
    if not answer.cancelled():
        answer.exception()
