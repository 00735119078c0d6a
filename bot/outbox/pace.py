"""How fast the outbox may write to Slack: posts by channel, edits by workspace.

Slack lets an app post about one message a second to a channel, short bursts allowed
(`chat.postMessage`'s own limit), while `chat.update` is in Tier 3: 50+ calls a minute for the
whole workspace, sporadic bursts welcome (docs.slack.dev/apis/web-api/rate-limits). So a reply
waits only for the replies before it in its channel, and an edit only for other edits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from aiolimiter import AsyncLimiter


@dataclass(frozen=True)
class PostPace:
    """One post every `every` in a channel on average, `burst` back to back after a lull.

    The generic cell rate algorithm: a channel's whole state is one instant, `due`, the time by
    which its posts so far are paid for. It is kept in the channel's lease row (not in memory,
    as aiolimiter's bucket would be), so the pace holds when another replica takes the channel.
    """

    every: timedelta
    burst: int = 3

    @property
    def _slack(self) -> timedelta:
        return self.every * (self.burst - 1)

    def earliest(self, due: datetime, now: datetime) -> datetime:
        """When the next post may go."""
        return max(now, due - self._slack)

    def after(self, due: datetime, sent: datetime) -> datetime:
        """The channel's `due` once a post went at `sent`."""
        return max(due, sent) + self.every

    def hold(self, now: datetime, wait: timedelta) -> datetime:
        """The `due` that keeps the channel quiet for `wait` (Slack's Retry-After)."""
        return now + wait + self._slack


class EditBudget:
    """The workspace's `chat.update` allowance in this process: `per_minute`, bursts allowed.

    aiolimiter's leaky bucket holds a minute's worth, so a quiet bot edits a burst of roots at
    once and a busy one settles at the rate. Zero means no limit (tests of other things).
    """

    def __init__(self, per_minute: float) -> None:
        self._limiter = AsyncLimiter(per_minute, 60) if per_minute > 0 else None

    def ready(self, most: int) -> int:
        """How many edits may go now without waiting (at least one: the caller waits for it)."""
        if self._limiter is None:
            return most
        count = 1
        while count < most and self._limiter.has_capacity(count + 1):
            count += 1
        return count

    async def take(self) -> None:
        """Wait for one edit's share of the allowance."""
        if self._limiter is not None:
            await self._limiter.acquire()
