"""Editing: the messages already in Slack (roots, prompts), on the workspace's edit budget.

One editor task per process takes the edits that may go (their channel's earlier replies are
out), as many as the budget shared by the replicas allows at once; pending edits of one message
merge into one `chat.update`. Edits never hold up a reply, and replies never wait for an edit's
budget. An edit Slack does not take backs off on its own; the others go on.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime

from bot.models import Clock
from bot.outbox.budget import EditBudget
from bot.outbox.ledger import BATCH, Ledger
from bot.outbox.merge import merged
from bot.outbox.posts import Refused
from bot.outbox.retry import Verdict, judge
from bot.outbox.table import OutboxRow, State
from bot.outbox.writer import Writer

log = logging.getLogger("bot.outbox")


class Editing:
    def __init__(
        self,
        ledger: Ledger,
        notifier: Writer,
        budget: EditBudget,
        *,
        clock: Clock,
        refused: Refused | None = None,
    ) -> None:
        self._ledger = ledger
        self._notifier = notifier
        self._budget = budget
        self._now = clock
        self._refused = refused
        self._task: asyncio.Task[None] | None = None
        self._again = False
        self._stopping = asyncio.Event()
        self._timer: asyncio.TimerHandle | None = None  # an edit backing off: look again then

    def kick(self) -> None:
        if self._stopping.is_set():
            return
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._drain())
        else:
            self._again = True

    async def stop(self) -> None:
        """Stop editing now: an edit waiting for its budget is left to whoever comes next."""
        self._stopping.set()
        if self._timer is not None:
            self._timer.cancel()
        await asyncio.gather(*self.running(), return_exceptions=True)

    async def _room_or_stop(self) -> bool:
        """Wait until the shared budget has room for an edit; False if the process stops."""
        while (wait := await self._budget.wait()) > 0:
            try:
                async with asyncio.timeout(wait):
                    await self._stopping.wait()  # the budget's own wait: what waiting is for
            except TimeoutError:
                pass
            if self._stopping.is_set():
                return False
        return not self._stopping.is_set()

    def running(self) -> list[asyncio.Task[None]]:
        return [self._task] if self._task is not None and not self._task.done() else []

    async def _drain(self) -> None:
        """Edit while there are edits that may go; one store round trip per batch taken."""
        sent: list[int] = []
        try:
            while True:
                self._again = False
                if not await self._room_or_stop():
                    return
                # As many messages as the budget has room for now: their edits go at once.
                batch, starved = await self._ledger.edits(BATCH, sent=sent, budget=self._budget)
                if not batch:
                    if not self._again and not starved:
                        return
                    continue
                for row, covers in merged(batch):
                    if self._stopping.is_set():
                        return  # what was taken and not sent is given back by the release
                    if await self._edit(row, covers):
                        sent.extend(covers)
        finally:
            await self._ledger.marked(sent, State.SENT)

    async def _edit(self, row: OutboxRow, covers: list[int]) -> bool:
        try:
            await self._notifier.update(
                row.channel, row.target_ts or "", row.text, row.blocks, queued=True
            )
        except Exception as exc:  # noqa: BLE001 - judged: transient ones back off and go again
            failure = judge(exc)
            retry_at = await self._ledger.failed(row, covers, failure)
            await self._budget.hold(failure.wait)  # Slack's Retry-After: every replica waits
            if retry_at is not None:
                self._later(retry_at)
            elif failure.verdict is Verdict.REFUSED and self._refused is not None:
                try:
                    await self._refused(row, failure.reason)
                except Exception:
                    log.exception("the fallback of edit %s in %s", row.target_ts, row.channel)
            return False
        return True

    def _later(self, at: datetime) -> None:
        loop = asyncio.get_running_loop()
        when = loop.time() + max((at - self._now()).total_seconds(), 0.0)
        if self._timer is not None and not self._timer.cancelled():
            if self._timer.when() <= when:
                return
            self._timer.cancel()
        self._timer = loop.call_at(when, self._wake)

    def _wake(self) -> None:
        self._timer = None
        self.kick()
