"""Outbox entries for a deployment's thread. Pure: builds Notice rows, sends nothing."""

from __future__ import annotations

from collections.abc import Sequence

from slack_sdk.models.blocks import Block

from bot import blocks
from bot.notifier import MAX_BLOCKS
from bot.store import Notice


def _json(content: Sequence[Block]) -> list[dict[str, object]]:
    return [block.to_dict() for block in content[:MAX_BLOCKS]]


def reply(
    channel: str,
    root_ts: str,
    text: str,
    content: Sequence[Block] | None = None,
    *,
    tracked_id: int | None = None,
    broadcast: bool = False,
    purpose: str | None = None,
) -> Notice:
    """A reply in the thread under `root_ts`."""
    return Notice(
        tracked_id=tracked_id,
        channel=channel,
        kind="post",
        thread_ts=root_ts,
        text=text,
        blocks=_json(content if content is not None else blocks.say(text)),
        broadcast=broadcast,
        purpose=purpose,
    )


def edit(
    channel: str,
    ts: str,
    text: str,
    content: Sequence[Block],
    *,
    tracked_id: int | None = None,
) -> Notice:
    """An edit of the message `ts` (the root, or an approval prompt)."""
    return Notice(
        tracked_id=tracked_id,
        channel=channel,
        kind="update",
        target_ts=ts,
        text=text,
        blocks=_json(content),
    )


def root(channel: str, root_ts: str, card: blocks.Card, *, tracked_id: int | None = None) -> Notice:
    return edit(channel, root_ts, blocks.root_text(card), blocks.root(card), tracked_id=tracked_id)
