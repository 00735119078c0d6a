"""Pure functions from our models to slack_sdk Block Kit objects. Action ids live here."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from slack_sdk.models.blocks import ActionsBlock, Block

from bot.dora import duration
from bot.models import OUTSIDE, Deployment, Status
from bot.mrkdwn import escape
from bot.render import fitted
from bot.render.excerpt import one_line
from bot.render.slack_limits import (
    MESSAGE_BLOCKS,
    MESSAGE_TEXT,
    SECTION_TEXT,
    fit,
    fit_plain,
    fit_user,
)

log = logging.getLogger(__name__)

SECTION_LIMIT = SECTION_TEXT  # the name the Home tab's builders still use

APPROVE = "deploybot_approve"
DISCARD = "deploybot_discard"
ROLLBACK = "deploybot_rollback"
CANCEL = "deploybot_cancel"
ACTIONS = (APPROVE, DISCARD, ROLLBACK, CANCEL)
CANCEL_THIS = "root"  # a Cancel's value: the deploy whose root message the button is on


@dataclass(frozen=True)
class Message:
    """What Slack shows: the blocks, and the text notifications and screen readers use."""

    text: str
    blocks: tuple[Block, ...] = ()

    def to_dicts(self) -> list[dict[str, Any]]:
        return [block.to_dict() for block in self.blocks]

    def payload(self) -> tuple[str, list[dict[str, Any]]]:
        """What is sent to Slack: the text cut to its 40,000 characters, and the blocks (at
        most 50). Blocks slack_sdk finds invalid are left out, and the text alone says what
        happened: a message that cannot be built never stops what it announces."""
        text = fit(self.text, MESSAGE_TEXT)
        try:
            return text, [block.to_dict() for block in self.blocks[:MESSAGE_BLOCKS]]
        except Exception as exc:  # noqa: BLE001 - any bug in a builder: the text still goes
            log.warning("a message's blocks are not valid (%s); sent as text: %.200s", exc, text)
            return text, []


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
    # In line behind the deployment in flight: its place (1: next); its Cancel button names
    # the message it is on (known once posted), so the root is posted with it.
    place: int | None = None
    default_ref: bool = False  # asked for without a ref: `ref`, once known, is the default branch

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
        f"*Status*\n{state}",
        f"*Ref*\n{card_ref(card)}",
        f"*Requested by*\n{who(card.requester)}",
        f"*Provider*\n{card.provider}",
    ]
    if card.deployment_id:
        fields.append(f"*Deployment*\n`{escape(card.deployment_id)}`")
    if card.url:
        fields.append(f"*URL*\n<{card.url}>")
    if card.approved_by:
        fields.append(f"*Approved by*\n<@{card.approved_by}>")
    blocks: list[Block] = [fitted.header(f"{card.title} {card.app}"), fitted.fields(fields)]
    if card.note:
        blocks.append(fitted.context([card.note]))
    if card.place is not None:
        cancel = fitted.button("Cancel", action_id=CANCEL, value=CANCEL_THIS)
        blocks.append(ActionsBlock(block_id="line", elements=[cancel]))
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
    if card.ref and card.default_ref:
        ref = f"{ref}, {DEFAULT_REF}"
    return f"{card.status.emoji} {card.title} {card.app} ({ref}): {state}"


DEFAULT_REF = "default branch"


def ref_words(ref: str | None, *, default: bool = False) -> str:
    """A ref as every message shows it; none given is the default branch (never `HEAD`), and
    once its name is known (`default`: asked for without a ref), "`main` (default branch)"."""
    if not ref:
        return DEFAULT_REF
    return f"`{escape(ref)}` ({DEFAULT_REF})" if default else f"`{escape(ref)}`"


def card_ref(card: Card) -> str:
    """The ref of a deployment's root, as its root and its thread say it."""
    return ref_words(card.ref, default=card.default_ref)


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
    """One section of mrkdwn, cut to Slack's limit."""
    return [fitted.section(text)]


def progress_text(app: str, status: Status) -> str:
    return f"{status.emoji} *{app}* is {status.label}"


def live_text(app: str, deployment: Deployment, *, built: bool = True) -> str:
    """`built`: this deployment was built now (not a rollback or a publish of an old build)."""
    where = f" at <{deployment.url}>" if deployment.url else ""
    seconds = deployment.build_seconds if built else None
    took = f" Built in {duration(seconds)}." if seconds else ""
    return f"{Status.LIVE.emoji} *{app} is live*{where}.{took}"


def failed(app: str, deployment: Deployment, excerpt: str | None) -> Message:
    """`excerpt`: the logs as a code block, fitted already (bot/render/excerpt.py)."""
    text = failed_text(app, deployment)
    blocks = say(text)
    if excerpt:
        blocks.append(fitted.section(excerpt))
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
        found.append(fitted.section(f"```\n{one_line(first_line, 500)}\n```"))
    return Message(text, tuple(found))


def failed_text(app: str, deployment: Deployment) -> str:
    status, error = deployment.status, fit_user(deployment.error or "", 500)
    head = app if error.partition(":")[0].endswith(" failed") else f"{app} {status.label}"
    return f"{status.emoji} *{head}*" + (f": {error}" if error else "")


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
                    fitted.button(approve_label, action_id=APPROVE, value=value, style="primary"),
                    fitted.button("Discard", action_id=DISCARD, value=value, style="danger"),
                ],
            ),
        ),
    )


def age(then: datetime, *, now: datetime) -> str:
    seconds = max(0, int((now - then.astimezone(UTC)).total_seconds()))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit} ago"
    return "just now"


OUTSIDE_WORDS = "started outside Slack"
"""The one phrase for a deployment the bot did not start (CI, a push, a dashboard)."""


def who(requester: str) -> str:
    """Who asked for a deployment: a person, or nobody in Slack (CI, a push, a dashboard)."""
    return OUTSIDE_WORDS if requester == OUTSIDE else f"<@{requester}>"


def by_whom(requester: str) -> str:
    """`who` in a sentence: "by @dev", or "started outside Slack"."""
    return OUTSIDE_WORDS if requester == OUTSIDE else f"by <@{requester}>"


def _people(users: Sequence[str]) -> str:
    return ", ".join(f"<@{u}>" for u in users)


def clip(text: str, limit: int) -> str:
    """Raw text (before escaping) cut at a word boundary: a name, a title."""
    return fit_plain(text, limit)
