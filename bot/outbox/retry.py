"""What a failed Slack write means for its message: try again later, or never.

Only Slack's own answers that no retry can change fail a message (the channel is gone or
archived, the bot is not in it, the token is revoked...); everything transient (HTTP 5xx, 429,
timeouts, a dropped connection, Slack's `fatal_error`) backs off per message, exponentially up
to a cap, and is tried again in its turn: a message is never dropped while Slack is down.
Slack's error codes are from its method pages (docs.slack.dev/reference/methods/chat.postMessage,
chat.update): `fatal_error` and `internal_error` say "some aspect of the operation [may have]
succeeded", so after them, as after a dropped connection, the message may be there already.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

import aiohttp
from slack_sdk.errors import SlackApiError

from bot.metrics import OUTBOX_FAILED, OUTBOX_RETRIES

log = logging.getLogger("bot.outbox")

FIRST_RETRY = timedelta(seconds=1)
RETRY_CAP = timedelta(seconds=60)  # the default of DEPLOYBOT_SLACK_RETRY_CAP

# Slack answered, and says to try again later (answered HTTP 200 with ok=false).
TRANSIENT_CODES = frozenset(
    {
        "ratelimited",
        "rate_limited",
        "fatal_error",
        "internal_error",
        "service_unavailable",
        "request_timeout",  # "the POST data was either missing or truncated"
        "team_added_to_org",  # a migration: "intermittently unavailable"
        "org_login_required",  # the same, "until migration is complete"
        "message_limit_exceeded",
    }
)
# After these Slack may have carried the call out before failing.
MAYBE_DONE_CODES = frozenset({"fatal_error", "internal_error"})
# The message itself is refused: final for these blocks, not for the news they carry. A
# plain-text fallback can still say it (the outbox's `refused` hook is where it plugs in).
REFUSED_CODES = frozenset(
    {"invalid_blocks", "invalid_blocks_format", "msg_too_long", "no_text", "too_many_attachments"}
)


class Verdict(StrEnum):
    RETRY = "retry"  # transient: back off, try again in the message's turn
    REFUSED = "refused"  # Slack will not take this content: final for it
    FINAL = "final"  # the channel, the message or the token: no retry can help


@dataclass(frozen=True)
class Failure:
    verdict: Verdict
    reason: str  # Slack's error code, the HTTP status or the exception's name
    unsure: bool = False  # the call may have been carried out
    wait: timedelta = timedelta(0)  # Slack's Retry-After

    @property
    def final(self) -> bool:
        return self.verdict is not Verdict.RETRY


def judge(exc: BaseException) -> Failure:
    """What a write's exception means (slack_sdk's own retries have already run)."""
    if isinstance(exc, SlackApiError):
        return _answered(exc)
    if isinstance(exc, aiohttp.ClientConnectorError):  # the connection never opened
        return Failure(Verdict.RETRY, type(exc).__name__)
    # A dropped connection, a timeout, or anything unexpected after the call may have landed.
    return Failure(Verdict.RETRY, type(exc).__name__, unsure=True)


def _answered(exc: SlackApiError) -> Failure:
    status = exc.response.status_code
    code = str(exc.response.get("error") or "")
    if status == 429:
        return Failure(Verdict.RETRY, code or "429", wait=retry_after(exc))
    if status >= 500:
        return Failure(Verdict.RETRY, f"HTTP {status}", unsure=True)
    if code in REFUSED_CODES:
        return Failure(Verdict.REFUSED, code)
    if code in TRANSIENT_CODES:
        return Failure(Verdict.RETRY, code, unsure=code in MAYBE_DONE_CODES)
    return Failure(Verdict.FINAL, code or f"HTTP {status}")


def retry_after(exc: SlackApiError) -> timedelta:
    """How long Slack asked us to wait (429 Retry-After, after slack_sdk's own retries)."""
    if exc.response.status_code != 429:
        return timedelta(0)
    headers = {key.lower(): value for key, value in (exc.response.headers or {}).items()}
    try:
        return timedelta(seconds=float(headers.get("retry-after", 1)))
    except ValueError:
        return timedelta(seconds=1)


def backoff(attempt: int, cap: timedelta = RETRY_CAP) -> timedelta:
    """How long a message waits after its `attempt`-th failed attempt: doubling from a second
    up to `cap`, the upper half of it jittered so channels that failed together spread out."""
    full = min(cap, FIRST_RETRY * (1 << min(max(attempt - 1, 0), 30)))
    return full / 2 + full / 2 * random.random()  # noqa: S311 - spreading retries, not secrets


def reported(failure: Failure, *, way: str, row_id: int, channel: str, retry_in: timedelta) -> None:
    """The log line and the metric of a failed attempt."""
    if failure.final:
        OUTBOX_FAILED.labels(way, failure.reason).inc()
        log.warning(
            "Slack refused %s %s in %s for good (%s): %s",
            way,
            row_id,
            channel,
            failure.reason,
            "handed to the fallback" if failure.verdict is Verdict.REFUSED else "not retried",
        )
        return
    OUTBOX_RETRIES.labels(way, failure.reason).inc()
    log.warning(
        "Slack did not take %s %s in %s (%s): trying again in %.1fs",
        way,
        row_id,
        channel,
        failure.reason,
        retry_in.total_seconds(),
    )
