"""Keep secrets out of Slack and the logs."""

from __future__ import annotations

import re
from collections.abc import Iterable

MASK = "•••"
MIN_LENGTH = 4
_PATTERNS = (
    re.compile(r"(?i)(authorization\s*[:=]\s*)(?:bearer\s+)?\S+"),
    re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]+"),
    re.compile(r"()\bxox[abposr]-[A-Za-z0-9-]+"),
    re.compile(r"()\bxapp-[A-Za-z0-9-]+"),
    re.compile(r"()\b(?:sk|pk|rk)_(?:live|test)_[A-Za-z0-9]+"),
    re.compile(
        r"(?i)(\b[A-Z0-9_]*(?:SECRET|TOKEN|PASSWORD|PASSWD|PWD|API_?KEY|ACCESS_KEY|PRIVATE_KEY|"
        r"CREDENTIALS?|AUTH)[A-Z0-9_]*\s*[=:]\s*)(\"[^\"]*\"|'[^']*'|\S+)"
    ),
)


class Redactor:
    """Masks the configured secrets by value, and anything that looks like one by shape."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets: list[str] = []
        self.learn(secrets)

    def learn(self, secrets: Iterable[str]) -> None:
        """Mask these too from now on (a deploy's KEY=VALUE override values). Shorter than
        MIN_LENGTH is not masked: "on" or "1" would mask every such word of a log."""
        known = set(self._secrets) | {s for s in secrets if len(s) >= MIN_LENGTH}
        self._secrets = sorted(known, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, MASK)
        for pattern in _PATTERNS:
            text = pattern.sub(lambda m: m.group(1) + MASK, text)
        return text
