"""Slack's rate limits as its docs state them, for the fake Slack to enforce when asked.

docs.slack.dev/apis/web-api/rate-limits: `chat.postMessage` "generally allows posting one
message per second per channel", "short bursts >1 allowed"; `chat.update` is Tier 3, "50+ per
minute", per app per workspace, "sporadic bursts are welcome". Beyond them Slack answers HTTP 429
`{"ok": false, "error": "ratelimited"}` with `Retry-After` in whole seconds. How long a burst
may be is not published: `post_burst` is this fake's guess, a test's to set.

Written from the docs, not from the bot's pacing (bot/outbox/pace.py): a token bucket per key,
refilled continuously, here; a different algorithm from the bot's on purpose.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field


@dataclass
class _Bucket:
    capacity: float
    per_second: float
    level: float = 0.0  # tokens spent and not yet refilled
    at: float = field(default_factory=time.monotonic)

    def spend(self) -> float:
        """0 if a call may go now (it is counted); else the seconds until one may."""
        now = time.monotonic()
        self.level = max(0.0, self.level - (now - self.at) * self.per_second)
        self.at = now
        if self.level + 1 <= self.capacity + 1e-9:
            self.level += 1
            return 0.0
        return (self.level + 1 - self.capacity) / self.per_second


@dataclass
class SlackLimits:
    post_every: float = 1.0  # seconds per chat.postMessage, per channel
    post_burst: int = 3
    updates_per_minute: float = 50.0  # chat.update for the workspace; 0: not limited
    update_burst: int = 50
    refused: dict[str, int] = field(default_factory=dict)  # method: 429s answered
    _buckets: dict[tuple[str, str], _Bucket] = field(default_factory=dict)

    def retry_after(self, method: str, channel: str) -> int | None:
        """None if the call is within the limits; else the Retry-After to answer with."""
        if method == "chat.postMessage":
            key, capacity, rate = (method, channel), self.post_burst, 1 / self.post_every
        elif method == "chat.update" and self.updates_per_minute > 0:
            key, capacity, rate = (method, ""), self.update_burst, self.updates_per_minute / 60
        else:
            return None
        bucket = self._buckets.setdefault(key, _Bucket(capacity, rate))
        wait = bucket.spend()
        if wait <= 0:
            return None
        self.refused[method] = self.refused.get(method, 0) + 1
        return max(1, math.ceil(wait))
