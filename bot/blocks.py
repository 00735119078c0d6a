"""Pure functions from our models to slack_sdk Block Kit objects."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.commands import USAGE
from bot.models import Deployment, LogLine, Status

SECTION_LIMIT = 3000
EXCERPT_LINES = 20
EXCERPT_CONTEXT = 3


@dataclass(frozen=True)
class Card:
    """What the root message of a deployment shows."""

    app: str
    provider: str
    requester: str
    ref: str | None
    status: Status
    deployment_id: str | None = None
    url: str | None = None
    note: str | None = None


def root(card: Card) -> list[Block]:
    fields = [
        MarkdownTextObject(text=f"*Status*\n{card.status.emoji} {card.status.label}"),
        MarkdownTextObject(text=f"*Ref*\n`{card.ref or 'default'}`"),
        MarkdownTextObject(text=f"*Requested by*\n<@{card.requester}>"),
        MarkdownTextObject(text=f"*Provider*\n{card.provider}"),
    ]
    if card.deployment_id:
        fields.append(MarkdownTextObject(text=f"*Deployment*\n`{card.deployment_id}`"))
    if card.url:
        fields.append(MarkdownTextObject(text=f"*URL*\n<{card.url}>"))
    blocks: list[Block] = [
        HeaderBlock(text=_clip(f"Deploy {card.app}", 150)),
        SectionBlock(fields=fields),
    ]
    if card.note:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=_clip(card.note, 2000))]))
    return blocks


def root_text(card: Card) -> str:
    return f"{card.status.emoji} Deploy {card.app} ({card.ref or 'default'}): {card.status.label}"


def progress(app: str, status: Status) -> list[Block]:
    return [SectionBlock(text=progress_text(app, status))]


def progress_text(app: str, status: Status) -> str:
    return f"{status.emoji} *{app}* is {status.label}"


def live(app: str, deployment: Deployment) -> list[Block]:
    return [SectionBlock(text=live_text(app, deployment))]


def live_text(app: str, deployment: Deployment) -> str:
    where = f" at <{deployment.url}>" if deployment.url else ""
    took = f" Built in {duration(deployment.build_seconds)}." if deployment.build_seconds else ""
    return f"{Status.LIVE.emoji} *{app} is live*{where}.{took}"


def failed(app: str, deployment: Deployment, excerpt: str | None) -> list[Block]:
    blocks: list[Block] = [SectionBlock(text=failed_text(app, deployment))]
    if excerpt:
        blocks.append(SectionBlock(text=code_block(excerpt)))
    return blocks


def failed_text(app: str, deployment: Deployment) -> str:
    status = deployment.status
    reason = f": {_clip(deployment.error, 500)}" if deployment.error else ""
    return f"{status.emoji} *{app} {status.label}*{reason}"


def ready(app: str, deployment: Deployment) -> list[Block]:
    where = f" Preview: <{deployment.url}>" if deployment.url else ""
    text = f"{Status.READY.emoji} *{app} is built* and not live yet.{where}"
    return [SectionBlock(text=text)]


def code_block(text: str) -> str:
    room = SECTION_LIMIT - len("```\n\n```") - 2
    if len(text) > room:
        text = "…" + text[-(room - 1) :]
    return f"```\n{text}\n```"


def excerpt(lines: Sequence[LogLine]) -> str:
    """The failing step, or the lines leading to the first error, or the tail.

    What a person reads first; `EXCERPT_CONTEXT` lines before the first error show what ran.
    """
    first = next((i for i, line in enumerate(lines) if line.failed), None)
    if first is None:
        chosen = list(lines)
    elif lines[first].title:
        chosen = [line for line in lines if line.failed]
    else:
        chosen = list(lines[max(0, first - EXCERPT_CONTEXT) :])
    text = "\n".join(_line(line) for line in chosen)
    return "\n".join(text.splitlines()[-EXCERPT_LINES:])


def _line(line: LogLine) -> str:
    return f"[{line.title}]\n{line.message}" if line.title else line.message


def duration(seconds: int) -> str:
    minutes, secs = divmod(seconds, 60)
    return f"{minutes}m {secs}s" if minutes else f"{secs}s"


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def progress_note(text: str) -> list[Block]:
    return [SectionBlock(text=_clip(text, SECTION_LIMIT))]


def usage_error(problem: str, usage: str) -> str:
    return f":warning: {problem}\nUsage: `{usage}`"


def help_text() -> str:
    lines = "\n".join(f"• `{line}`" for line in USAGE.values())
    return f"*deploybot* deploys your apps from Slack.\n{lines}"
