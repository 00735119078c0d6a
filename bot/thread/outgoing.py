"""The outbox's items for a deployment's thread: a reply, the root's edit, the approval prompt."""

from __future__ import annotations

from bot.models import Tracked
from bot.outbox import Edit, Reply
from bot.render import blocks
from bot.render.blocks import Card, Message


def root_edit(row: Tracked, card: Card) -> Edit:
    return Edit(row.channel, row.root_ts, blocks.root(card), row.id)


def root_text_edit(row: Tracked, text: str) -> Edit:
    return Edit(row.channel, row.root_ts, Message(text), row.id)


def reply(row: Tracked, message: Message, *, broadcast: bool = False) -> Reply:
    return Reply(row.channel, row.root_ts, message, row.id, broadcast=broadcast)


def approval_prompt(row: Tracked, text: str, label: str) -> Reply:
    """The approval buttons; the outbox records the message's ts on the row once sent."""
    message = blocks.approval_prompt(text, row.id, approve_label=label)
    return Reply(row.channel, row.root_ts, message, row.id, prompt=True)
