"""The one Slack client, the Bolt app over it, and whether Slack takes the bot token."""

from __future__ import annotations

import logging

import aiohttp
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from bot.config.settings import Settings
from bot.listeners.workspace import OneWorkspace
from bot.outbox.notifier import BAD_TOKEN, NoBlindRepost

log = logging.getLogger(__name__)

SLACK_TIMEOUT = 10  # seconds; a slow send keeps its claim meanwhile (the outbox's heartbeat)


class SlackUnreachable(Exception):
    """Slack did not answer (network, timeout, 5xx): worth trying again."""


class BadToken(Exception):
    """Slack answered and refused the bot token: the message is one line for a person."""


def slack_client(settings: Settings) -> AsyncWebClient:
    """One connection pool for every Slack call: slack_sdk opens a session per call without it."""
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
    session = aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=100), timeout=aiohttp.ClientTimeout(SLACK_TIMEOUT)
    )
    return AsyncWebClient(
        token=token,
        session=session,
        base_url=settings.slack_api_url,
        timeout=SLACK_TIMEOUT,
        retry_handlers=[
            NoBlindRepost(),  # connection errors: a post is left to the outbox's check
            AsyncRateLimitErrorRetryHandler(max_retry_count=3),
            AsyncServerErrorRetryHandler(max_retry_count=2),
        ],
    )


def bolt_app(slack: AsyncWebClient, workspace: OneWorkspace, settings: Settings) -> AsyncApp:
    """Bolt over the one client, authorized by the one workspace it answers."""
    signing = settings.slack_signing_secret
    return AsyncApp(
        logger=_bolt_logger(),
        client=slack,
        authorize=workspace,
        signing_secret=signing.get_secret_value() if signing else None,
        process_before_response=True,  # listeners ack and return (bot/listeners/after_ack.py)
    )


async def verify_token(slack: AsyncWebClient) -> str:
    """auth.test: who the bot is in which workspace, or BadToken, or SlackUnreachable."""
    try:
        answer = await slack.auth_test()
    except SlackApiError as exc:
        code = str(exc.response.get("error", ""))
        if code in BAD_TOKEN:
            raise BadToken(
                f"Slack refused SLACK_BOT_TOKEN ({code}): set the bot token (xoxb-...) "
                "from the app's OAuth & Permissions page"
            ) from None
        raise SlackUnreachable(f"Slack answered auth.test with {code}") from None
    except (aiohttp.ClientError, TimeoutError, OSError) as exc:
        raise SlackUnreachable(
            f"Slack does not answer at {slack.base_url} ({type(exc).__name__}: {exc})"
        ) from None
    return f"@{answer.get('user', '?')} in {answer.get('team', '?')}"


async def slack_answers(slack: AsyncWebClient) -> bool:
    """Whether Slack takes the token (auth.test)."""
    try:
        await verify_token(slack)
        answers = True
    except (SlackUnreachable, BadToken) as exc:  # said in the reply; a line each would flood
        log.debug("health check: %s", exc)
        answers = False
    return answers


async def token_refused(settings: Settings) -> list[str]:
    """With other problems to fix anyway: whether Slack refuses the token, said with them."""
    slack = slack_client(settings)
    try:
        await verify_token(slack)
    except BadToken as exc:
        return [f"environment: {exc}"]
    except SlackUnreachable:  # not a setting: `serve` waits for it
        pass
    finally:
        if slack.session is not None:
            await slack.session.close()
    return []


class _TokenFromEnvironment(logging.Filter):
    """Bolt reads SLACK_BOT_TOKEN from the environment by itself even when given a client, then
    warns on every start that the token "will be unused" (bolt-python#983), and, given an
    `authorize`, that it "will be ignored". We give it only the client, whose token the
    authorization hands back (bot/listeners/workspace.py): neither line says anything true."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        return "`token` will be unused" not in message and "will be ignored" not in message


def _bolt_logger() -> logging.Logger:
    bolt_log = logging.getLogger("slack_bolt.deploybot")
    if not bolt_log.filters:
        bolt_log.addFilter(_TokenFromEnvironment())
    return bolt_log
