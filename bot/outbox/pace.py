"""How fast the outbox may write to Slack: posts by channel, edits by workspace.

Slack lets an app post about one message a second to a channel, short bursts allowed
(`chat.postMessage`'s own limit), while `chat.update` is in Tier 3: 50+ calls a minute for the
whole workspace, sporadic bursts welcome (docs.slack.dev/apis/web-api/rate-limits). So a reply
waits only for the replies before it in its channel, and an edit only for other edits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class PostPace:
    """One post every `every` in a channel on average, `burst` back to back after a lull.

    The generic cell rate algorithm: a channel's whole state is one instant, `due`, the time by
    which its posts so far are paid for. It is kept in the channel's lease row (not in memory),
    so the pace holds when another replica takes the channel. The workspace's edit budget is
    the same algorithm over one row (`bot.outbox.budget`).
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
