"""What the use-cases hand the outbox: a thread reply, or an edit of a message already there."""

from __future__ import annotations

from dataclasses import dataclass

from bot.render.blocks import Message


@dataclass(frozen=True)
class Reply:
    """A reply in the thread under `thread_ts`; a prompt's ts is recorded on its deployment."""

    channel: str
    thread_ts: str
    message: Message
    tracked_id: int | None = None
    broadcast: bool = False
    prompt: bool = False


@dataclass(frozen=True)
class Edit:
    """An edit of the message `ts` (a root, or an approval prompt)."""

    channel: str
    ts: str
    message: Message
    tracked_id: int | None = None


@dataclass(frozen=True)
class Direct:
    """A direct message to a person: posted to their user ID, Slack's DM with the app."""

    user: str
    message: Message
    tracked_id: int | None = None

    @property
    def channel(self) -> str:
        """Where the outbox delivers it, in order with the person's other messages."""
        return self.user


Outgoing = Reply | Edit | Direct
