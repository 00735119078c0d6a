"""The blocks that show past deployments: an app's history, and a rollback's confirm and form."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from slack_sdk.models.blocks import (
    ActionsBlock,
    ButtonElement,
    ContextBlock,
    InputBlock,
    MarkdownTextObject,
    PlainTextInputElement,
)
from slack_sdk.models.views import View

from bot.blocks import ROLLBACK, Message, age, clip, escape, say, state_words
from bot.commands import MAX_REASON
from bot.models import Deployment, Status

# The rollback's reason: the modal's callback_id, and where its text input is in its state.
ROLLBACK_REASON = "deploybot_rollback_reason"
REASON_BLOCK = "reason"
REASON_INPUT = "reason_input"
TITLE_LIMIT = 24


def rollback_confirm(
    app: str, current: Deployment, target: Deployment, value: str, *, now: datetime
) -> Message:
    text = (
        f":rewind: *Roll back {app}?*\n"
        f"*From* {describe(current, now=now)}\n*To* {describe(target, now=now)}"
    )
    # The click opens a form asking why (`rollback_reason`): that is the confirmation.
    button = ButtonElement(text="Roll back…", action_id=ROLLBACK, value=value, style="danger")
    summary = f"Roll back {app} from {current.id} to {target.id}?"
    return Message(summary, (*say(text), ActionsBlock(block_id="rollback", elements=[button])))


def rollback_reason(
    app: str, current: str, target: str, metadata: str, *, locked: str | None = None
) -> View:
    """The form a rollback's button opens: why, said in the thread and kept as the lock's
    reason; or, when the app is `locked` already ("locked by @dev: why"), that lock stays."""
    if locked:
        text = (
            f"*{app}* goes back from `{current}` to `{target}`. It stays {locked}, until "
            "someone unlocks. Your reason is said in the rollback's thread."
        )
    else:
        text = (
            f"*{app}* goes back from `{current}` to `{target}`, and its deploys stay locked "
            "until someone unlocks. Your reason is said in the rollback's thread and becomes "
            "the lock's."
        )
    reason = PlainTextInputElement(
        action_id=REASON_INPUT,
        max_length=MAX_REASON,
        placeholder="e.g. checkout errors since 14:05",
    )
    return View(
        type="modal",
        callback_id=ROLLBACK_REASON,
        private_metadata=metadata,
        title=clip(f"Roll back {app}?", TITLE_LIMIT),
        submit="Roll back",
        close="Cancel",
        blocks=[
            *say(text),
            InputBlock(block_id=REASON_BLOCK, label="Why roll back?", element=reason),
        ],
    )


def describe(deployment: Deployment, *, now: datetime) -> str:
    """`id` (ref) "commit message", age."""
    parts = [f"`{deployment.id}`"]
    if deployment.ref:
        parts.append(f"({escape(clip(deployment.ref, 60))})")
    if deployment.commit_message:
        parts.append(f"“{escape(clip(deployment.commit_message.splitlines()[0], 80))}”")
    if deployment.created_at:
        parts.append(age(deployment.created_at, now=now))
    return " ".join(parts)


def history(
    app: str,
    deployments: Sequence[Deployment],
    *,
    labels: Mapping[str, str],
    notes: Mapping[str, str],
    now: datetime,
    lock: str | None,
    audit: Sequence[str],
) -> Message:
    """`labels`: a deployment's state in our words where the provider's says less (discarded,
    was live); `notes`: who did what with it ("by @dev (@lead rolled back to it 5m ago)")."""
    lines = []
    for d in deployments:
        label = labels.get(d.id) or state_words(d.status)
        note = f" {notes[d.id]}" if d.id in notes else ""
        mark = " ← *live*" if d.status is Status.LIVE else ""
        lines.append(f"{d.status.emoji} {label}: {describe(d, now=now)}{note}{mark}")
    text = f"*{app}*: latest deployments\n" + ("\n".join(lines) or "No deployments yet.")
    blocks = say(text)
    if lock:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=f":lock: {lock}")]))
    if audit:
        blocks.extend(say("*Recent actions*\n" + "\n".join(audit)))
    return Message(f"Status of {app}", tuple(blocks))
