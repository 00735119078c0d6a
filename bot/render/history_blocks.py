"""The blocks that show past deployments: `/deploy status` (an app's latest deployments), and a
rollback's confirm and form."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from slack_sdk.models.blocks import ActionsBlock, Block, InputBlock, PlainTextInputElement
from slack_sdk.models.views import View

from bot.commands.reasons import MAX_REASON
from bot.models import Deployment, Status
from bot.mrkdwn import escape
from bot.render import fitted
from bot.render.blocks import ROLLBACK, Message, age, say, state_words
from bot.render.slack_limits import (
    MESSAGE_BLOCKS,
    MODAL_CLOSE,
    MODAL_SUBMIT,
    MODAL_TITLE,
    PRIVATE_METADATA,
    fit_plain,
    fit_user,
)

# The rollback's reason: the modal's callback_id, and where its text input is in its state.
ROLLBACK_REASON = "deploybot_rollback_reason"
REASON_BLOCK = "reason"
REASON_INPUT = "reason_input"
TITLE_LIMIT = MODAL_TITLE


def rollback_confirm(
    app: str,
    current: Deployment,
    target: Deployment,
    value: str,
    *,
    now: datetime,
    compare: str | None = None,
) -> Message:
    """`compare`: a link to the repository's view of what the rollback takes out."""
    text = (
        f":rewind: *Roll back {app}?*\n"
        f"*From* {describe(current, now=now)}\n*To* {describe(target, now=now)}"
    )
    if compare:
        text += f"\n{compare}"
    # The click opens a form asking why (`rollback_reason`): that is the confirmation.
    button = fitted.button("Roll back…", action_id=ROLLBACK, value=value, style="danger")
    summary = f"Roll back {app} from {escape(current.id)} to {escape(target.id)}?"
    return Message(summary, (*say(text), ActionsBlock(block_id="rollback", elements=[button])))


def rollback_reason(
    app: str, current: str, target: str, metadata: str, *, locked: str | None = None
) -> View:
    """The form a rollback's button opens: why, said in the thread and kept as the lock's
    reason; or, when the app is `locked` already ("locked by @dev: why"), that lock stays."""
    if len(metadata) > PRIVATE_METADATA:  # ours: a plan, a channel and a response_url
        raise ValueError(
            f"a form's metadata is {len(metadata)} characters, over {PRIVATE_METADATA}"
        )
    current, target = escape(current), escape(target)
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
        title=fit_plain(f"Roll back {app}?", MODAL_TITLE),
        submit=fit_plain("Roll back", MODAL_SUBMIT),
        close=fit_plain("Cancel", MODAL_CLOSE),
        blocks=[
            *say(text),
            InputBlock(block_id=REASON_BLOCK, label="Why roll back?", element=reason),
        ],
    )


def describe(deployment: Deployment, *, now: datetime) -> str:
    """`id` (ref) "commit message", age."""
    parts = [f"`{fit_user(deployment.id, 60)}`"]
    if deployment.ref:
        parts.append(f"({fit_user(deployment.ref, 60)})")
    if deployment.commit_message:
        first = (deployment.commit_message.splitlines() or [""])[0]
        parts.append(f"“{fit_user(first, 80)}”")
    if deployment.created_at:
        parts.append(age(deployment.created_at, now=now))
    return " ".join(parts)


def status_message(
    app: str,
    deployments: Sequence[Deployment],
    *,
    labels: Mapping[str, str],
    notes: Mapping[str, str],
    now: datetime,
    lock: str | None,
    audit: Sequence[str],
) -> Message:
    """`/deploy status`: the app's latest deployments, its lock and its recent actions.

    `labels`: a deployment's state in our words where the provider's says less (discarded,
    was live); `notes`: who did what with it ("by @dev (@lead rolled back to it 5m ago)")."""
    lines = []
    for d in deployments:
        label = labels.get(d.id) or state_words(d.status)
        note = f" {notes[d.id]}" if d.id in notes else ""
        mark = " ← *live*" if d.status is Status.LIVE else ""
        lines.append(f"{d.status.emoji} {label}: {describe(d, now=now)}{note}{mark}")
    head = f"*{app}*: latest deployments"
    found: list[Block] = [*fitted.sections([head, *(lines or ["No deployments yet."])], most=20)]
    if lock:
        found.append(fitted.context([f":lock: {lock}"]))
    if audit:
        found += fitted.sections(["*Recent actions*", *audit], most=MESSAGE_BLOCKS - len(found))
    return Message(f"Status of {app}", tuple(found))
