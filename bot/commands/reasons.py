"""A reason, as typed after `lock` or `--force` or in a form: printable, not too long; and
`--force "reason"` split off the words before it. Pure."""

from __future__ import annotations

from bot.commands.usage import FORCE, USAGE, UsageError

MAX_REASON = 300


def reason_problem(reason: str) -> str | None:
    """What is wrong with a reason typed in a form (a rollback's), or None."""
    if not reason.strip():
        return "Say why, in a few words."
    try:
        checked_reason([reason], USAGE["rollback"])
    except UsageError as exc:
        return str(exc)
    return None


def checked_reason(words: list[str], usage: str = USAGE["lock"]) -> str:
    reason = " ".join(words)
    if len(reason) > MAX_REASON:
        raise UsageError(f"Keep the reason under {MAX_REASON} characters.", usage)
    if any(not ch.isprintable() for ch in reason):
        raise UsageError("The reason has characters I can't show.", usage)
    return reason


def split_force(words: list[str]) -> tuple[list[str], str | None]:
    """Split off `--force "reason"`: everything after it is the reason, quotes optional."""
    if FORCE not in words:
        return words, None
    at = words.index(FORCE)
    return words[:at], forced_reason(words[at + 1 :])


def forced_reason(words: list[str]) -> str:
    reason = checked_reason(words, USAGE["force"]).strip().strip("\"'“”").strip()
    if not reason:
        raise UsageError(
            'Deploying anyway needs a reason everyone can read: `--force "why"`.',
            USAGE["force"],
        )
    return reason
