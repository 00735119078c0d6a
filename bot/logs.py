"""Logging that never prints a secret."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from bot.redact import Redactor


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


def setup_logging(secrets: Iterable[str], level: int = logging.INFO) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactingFilter(Redactor(secrets)))
    logging.basicConfig(level=level, handlers=[handler], force=True)
    for chatty in ("apscheduler", "httpx"):  # a line per tick or per request drowns the rest
        logging.getLogger(chatty).setLevel(logging.WARNING)
