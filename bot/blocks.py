"""Pure functions from our models to slack_sdk Block Kit objects. Action ids live here."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.models import Deployment, LogLine, Status
from bot.mrkdwn import escape as escape  # noqa: PLC0414 - still importable from here
from bot.usage import USAGE

SECTION_LIMIT = 3000
EXCERPT_LINES = 20
EXCERPT_CONTEXT = 3

APPROVE = "deploybot_approve"
DISCARD = "deploybot_discard"
ROLLBACK = "deploybot_rollback"
CANCEL = "deploybot_cancel"
ACTIONS = (APPROVE, DISCARD, ROLLBACK, CANCEL)


@dataclass(frozen=True)
class Message:
    """What Slack shows: the blocks, and the text notifications and screen readers use."""

    text: str
    blocks: tuple[Block, ...] = ()

    def to_dicts(self) -> list[dict[str, Any]]:
        return [block.to_dict() for block in self.blocks]


def note(text: str) -> Message:
    """A message of one mrkdwn section."""
    return Message(text, tuple(say(text)))


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
    title: str = "Deploy"
    waiting_for: tuple[str, ...] | None = None  # approvers, while an approval is pending
    approved_by: str | None = None
    discarded_by: str | None = None  # a decision: it stays on the root whatever follows
    # In line behind the deployment in flight: its place (1: next), and its row for Cancel.
    place: int | None = None
    row_id: int | None = None

    def but(self, **changes: object) -> Card:
        return replace(self, **changes)  # type: ignore[arg-type]


def root(card: Card) -> Message:
    state = f"{card.status.emoji} {card.status.label}"
    if card.waiting_for is not None:
        state = f":raised_hand: waiting for approval by {_people(card.waiting_for)}"
    if card.place is not None:
        state = f":hourglass: {waiting_text(card.place)}"
    if card.discarded_by is not None:
        state = f":wastebasket: discarded by <@{card.discarded_by}>: not published"
    fields = [
        MarkdownTextObject(text=f"*Status*\n{state}"),
        MarkdownTextObject(text=f"*Ref*\n{ref_words(card.ref)}"),
        MarkdownTextObject(text=f"*Requested by*\n<@{card.requester}>"),
        MarkdownTextObject(text=f"*Provider*\n{card.provider}"),
    ]
    if card.deployment_id:
        fields.append(MarkdownTextObject(text=f"*Deployment*\n`{card.deployment_id}`"))
    if card.url:
        fields.append(MarkdownTextObject(text=f"*URL*\n<{card.url}>"))
    if card.approved_by:
        fields.append(MarkdownTextObject(text=f"*Approved by*\n<@{card.approved_by}>"))
    blocks: list[Block] = [
        HeaderBlock(text=clip(f"{card.title} {card.app}", 150)),
        SectionBlock(fields=fields),
    ]
    if card.note:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=clip(card.note, 2000))]))
    if card.place is not None and card.row_id is not None:
        cancel = ButtonElement(text="Cancel", action_id=CANCEL, value=str(card.row_id))
        blocks.append(ActionsBlock(block_id=f"line-{card.row_id}", elements=[cancel]))
    return Message(_root_text(card), tuple(blocks))


def waiting_text(place: int) -> str:
    """A deploy's place in its app's line: it starts when those before it have ended."""
    if place == 1:
        return "waiting: next in line, starts when the deployment in flight ends"
    ahead = "1 other deploy" if place == 2 else f"{place - 1} other deploys"
    return f"waiting: number {place} in line, after the deployment in flight and {ahead}"


def _root_text(card: Card) -> str:
    state = "waiting for approval" if card.waiting_for is not None else card.status.label
    if card.place is not None:
        state = waiting_text(card.place)
    if card.discarded_by is not None:
        state = "discarded"
    ref = escape(card.ref) if card.ref else DEFAULT_REF
    return f"{card.status.emoji} {card.title} {card.app} ({ref}): {state}"


DEFAULT_REF = "default branch"


def ref_words(ref: str | None) -> str:
    """A ref as every message shows it; none given is the default branch (never `HEAD`)."""
    return f"`{escape(ref)}`" if ref else DEFAULT_REF


def state_words(status: Status, *, discarded: bool = False, awaiting: bool = False) -> str:
    """A deployment's state in every list of deployments (`status`, `history`, the Home tab), in
    our words where the provider's say less: a build someone discarded, one that waits for an
    approval (`awaiting`), and one that was live and was replaced (Nometria's "rolled_back",
    which does not mean a rollback went away from it)."""
    if discarded:
        return "discarded"
    if awaiting and status is Status.READY:
        return "waiting for approval"
    if status is Status.ROLLED_BACK:
        return "was live"
    return status.label


def say(text: str) -> list[Block]:
    """One section of mrkdwn, clipped to Slack's limit."""
    return [SectionBlock(text=clip(text, SECTION_LIMIT))]


def progress_text(app: str, status: Status) -> str:
    return f"{status.emoji} *{app}* is {status.label}"


def live_text(app: str, deployment: Deployment, *, built: bool = True) -> str:
    """`built`: this deployment was built now (not a rollback or a publish of an old build)."""
    where = f" at <{deployment.url}>" if deployment.url else ""
    seconds = deployment.build_seconds if built else None
    took = f" Built in {duration(seconds)}." if seconds else ""
    return f"{Status.LIVE.emoji} *{app} is live*{where}.{took}"


def failed(app: str, deployment: Deployment, excerpt: str | None) -> Message:
    text = failed_text(app, deployment)
    blocks = say(text)
    if excerpt:
        blocks.append(SectionBlock(text=code_block(excerpt)))
    return Message(text, tuple(blocks))


def failure_dm(
    app: str, deployment_id: str, first_line: str | None, *, channel: str, link: str | None
) -> Message:
    """The direct message to whoever asked for a deployment that failed."""
    thread = f"<{link}|its thread>" if link else "its thread"
    text = (
        f"{Status.FAILED.emoji} Your deployment of *{app}* (`{deployment_id}`) failed. "
        f"See {thread} in <#{channel}>."
    )
    found = [*say(text)]
    if first_line:
        found.append(SectionBlock(text=code_block(escape(clip(first_line, 500)))))
    return Message(text, tuple(found))


def failed_text(app: str, deployment: Deployment) -> str:
    status = deployment.status
    reason = f": {escape(clip(deployment.error, 500))}" if deployment.error else ""
    return f"{status.emoji} *{app} {status.label}*{reason}"


def ready_text(app: str, deployment: Deployment) -> str:
    where = f" Preview: <{deployment.url}>" if deployment.url else ""
    return f"{Status.READY.emoji} *{app} is built* and not live yet.{where}"


def unapproved_live_text(app: str) -> str:
    return (
        f":rotating_light: *{app} went live WITHOUT approval.* The Stormkit environment "
        "publishes finished builds by itself (autoPublish is on), so the approval gate did not "
        "hold. Turn autoPublish off for this environment, and roll back if this was not wanted: "
        f"`/deploy rollback {app}`."
    )


def approval_prompt(text: str, row_id: int, *, approve_label: str) -> Message:
    value = str(row_id)
    return Message(
        text,
        (
            *say(text),
            ActionsBlock(
                block_id=f"approval-{row_id}",
                elements=[
                    ButtonElement(
                        text=approve_label, action_id=APPROVE, value=value, style="primary"
                    ),
                    ButtonElement(text="Discard", action_id=DISCARD, value=value, style="danger"),
                ],
            ),
        ),
    )


def code_block(text: str) -> str:
    room = SECTION_LIMIT - len("```\n\n```") - 2
    if len(text) > room:
        text = "…" + text[-(room - 1) :]
    return f"```\n{escape(text)}\n```"


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


def age(then: datetime, *, now: datetime) -> str:
    seconds = max(0, int((now - then.astimezone(UTC)).total_seconds()))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit} ago"
    return "just now"


def usage_error(problem: str, usage: str) -> str:
    return f":warning: {problem}\nUsage: `{usage}`"


def help_text() -> str:
    lines = "\n".join(f"• `{line}`" for line in USAGE.values())
    return (
        f"*deploybot* deploys your apps from Slack.\n{lines}\n"
        "During a freeze or a lock, deploys are refused until it ends or someone unlocks; "
        "rollbacks still work. An approver (or, for an app without approvers, anyone who may "
        'deploy it) may deploy anyway with `--force "reason"`, which is said in the channel and '
        "audited.\n"
        "One deployment per app at a time: a deploy of an app that is deploying waits in line "
        "(its requester can Cancel it) and starts by itself in its turn; rollbacks never wait.\n"
        "A rollback locks the app's deploys until someone unlocks it; its button asks why, and "
        "the reason is said in its thread and kept as the lock's.\n"
        "`history` lists the last deployments, the provider's too; `stats` gives the DORA "
        "figures (frequency, change failure rate, time to restore, build time), 30 days by "
        "default.\nIf a deployment you asked for fails, I also send you a direct message with "
        "a link to its thread. My Home tab shows your apps: what is live, in flight, waiting "
        "for you, locked or frozen, with Deploy, Roll back and Unlock buttons."
    )


def _people(users: Sequence[str]) -> str:
    return ", ".join(f"<@{u}>" for u in users)


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
