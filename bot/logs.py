"""Logging that never prints a secret."""

from __future__ import annotations

import logging
from collections.abc import Iterable

import stamina.instrumentation
from stamina.instrumentation import RetryDetails

from bot.redact import Redactor

retries = logging.getLogger("bot.retries")


class RedactingFilter(logging.Filter):
    def __init__(self, redact: Redactor) -> None:
        super().__init__()
        self._redact = redact

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = self._redact(record.getMessage())
        record.args = None
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = self._redact(logging.Formatter().formatException(record.exc_info))
        return True


def setup_logging(secrets: Iterable[str], level: int = logging.INFO) -> Redactor:
    """Log lines on stderr, masked by the Redactor returned (give it to the bot, so that it
    learns what the bot learns: override values)."""
    redact = Redactor(secrets)
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactingFilter(redact))
    logging.basicConfig(level=level, handlers=[handler], force=True)
    # A line per tick, per request or per retry drowns the rest.
    # Alembic says each step of a migration; the bot says the upgrade in one line itself.
    for chatty in ("apscheduler", "httpx", "slack_sdk", "alembic"):
        logging.getLogger(chatty).setLevel(logging.WARNING)
    return redact


def _log_retry(details: RetryDetails) -> None:
    """A retry in words, at INFO: shown by `serve`, quiet in `check` and the console."""
    retries.info(
        "retrying in %.1fs (retry %d): %s",
        details.wait_for,
        details.retry_num,
        details.caused_by,
    )


def human_retries() -> None:
    """stamina's own hook logs a bare `stamina.retry_scheduled` with the details out of sight."""
    stamina.instrumentation.set_on_retry_hooks([_log_retry])
