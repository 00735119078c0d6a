"""Editing: the messages already in Slack (roots, prompts), on the workspace's edit budget.

One editor task per process takes the edits that may go (their channel's earlier replies are
out), as many as the budget allows at once; pending edits of one message merge into one
`chat.update`. Edits never hold up a reply, and replies never wait for an edit's budget.
"""

from __future__ import annotations

import asyncio
import logging

from slack_sdk.errors import SlackApiError

from bot.notifier import Notifier
from bot.outbox.ledger import BATCH, Ledger
from bot.outbox.merge import merged
from bot.outbox.pace import EditBudget
from bot.outbox.slack import retry_after
from bot.outbox.table import State

log = logging.getLogger("bot.outbox")


class Editing:
    def __init__(self, ledger: Ledger, notifier: Notifier, budget: EditBudget) -> None:
        self._ledger = ledger
        self._notifier = notifier
        self._budget = budget
        self._task: asyncio.Task[None] | None = None
        self._again = False
        self._stopping = asyncio.Event()

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
        await asyncio.gather(*self.running(), return_exceptions=True)

    async def _budget_or_stop(self) -> bool:
        """Wait for one edit's share of the budget; False if the process stops meanwhile."""
        share = asyncio.ensure_future(self._budget.take())
        stop = asyncio.ensure_future(self._stopping.wait())
        await asyncio.wait({share, stop}, return_when=asyncio.FIRST_COMPLETED)
        for waiting in (share, stop):
            waiting.cancel()
        return not self._stopping.is_set()

    def running(self) -> list[asyncio.Task[None]]:
        return [self._task] if self._task is not None and not self._task.done() else []

    async def _drain(self) -> None:
        """Edit while there are edits that may go; one store round trip per batch taken."""
        sent: list[int] = []
        try:
            while True:
                self._again = False
                batch = await self._ledger.edits(self._budget.ready(BATCH), sent=sent)
                if not batch:
                    if not self._again:
                        return
                    continue
                for row, covers in merged(batch):
                    if not await self._budget_or_stop():
                        return  # what was taken and not sent is given back by the release
                    try:
                        await self._notifier.update(
                            row.channel, row.target_ts or "", row.text, row.blocks
                        )
                        sent.extend(covers)
                    except SlackApiError as exc:
                        await self._ledger.failed(row, covers, exc)
                        if (hold := retry_after(exc).total_seconds()) > 0:
                            await asyncio.sleep(hold)  # the workspace's edits wait: the point
                    except Exception:
                        log.exception("editing message %s in %s", row.target_ts, row.channel)
                        await self._ledger.failed(row, covers, None)
        finally:
            await self._ledger.marked(sent, State.SENT)
