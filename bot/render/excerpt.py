"""A deployment's logs as a message shows them: the failing lines in a code block that fits
Slack after escaping, and how many lines were left out. Pure.

What a person reads first is where it failed: the first failing line and those after it, then
the last lines (a build's final error), then the few lines before the failure that show what ran.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from bot.models import LogLine
from bot.mrkdwn import escape
from bot.render.slack_limits import FENCE, SECTION_TEXT, fit

MOST_LINES = 20
CONTEXT = 3  # lines before the first failing one, when there is room
LINE = 400  # characters of one line, escaped: a minified bundle is one line
_GAP = "… {n} line{s} left out …"
_GAP_ROOM = 2 * len(_GAP.format(n=10**6, s="s")) + 2  # at most two gaps are shown


def log_block(
    lines: Sequence[LogLine],
    *,
    redact: Callable[[str], str] = str,
    room: int = SECTION_TEXT,
) -> str | None:
    """The excerpt as a code block of at most `room` characters; None for no lines. `redact`
    masks secrets in the text as the provider wrote it, before escaping (a secret's escaped form
    would not be found)."""
    texts = [one_line(redact(text)) for text in _texts(lines)]
    if not texts:
        return None
    first = _first_failing(lines, texts)
    chosen = _choose(texts, first, budget=room - len(f"{FENCE}\n\n{FENCE}") - _GAP_ROOM)
    return f"{FENCE}\n{_with_gaps(texts, chosen)}\n{FENCE}"


def _texts(lines: Sequence[LogLine]) -> list[str]:
    """One text per line shown; a titled step (Stormkit) shows only its failing steps."""
    failing = [line for line in lines if line.failed]
    shown = failing if failing and failing[0].title else list(lines)
    out: list[str] = []
    for line in shown:
        if line.title:
            out.append(f"[{line.title}]")
        out.extend(line.message.splitlines() or [""])
    return out


def _first_failing(lines: Sequence[LogLine], texts: list[str]) -> int:
    """Where the first failing line is among `texts` (0 if none failed, or steps are titled)."""
    failing = next((line for line in lines if line.failed), None)
    if failing is None or failing.title:
        return 0 if failing is not None else max(0, len(texts) - MOST_LINES)
    before = 0
    for line in lines:
        if line is failing:
            return before
        before += len(line.message.splitlines() or [""])
    return 0


def one_line(text: str, limit: int = LINE) -> str:
    """A line for a code block: escaped, cut to `limit` characters as Slack counts them; a ```
    in it would close the block, so it is broken up."""
    return fit(escape(text).replace(FENCE, "`\u200b`\u200b`"), limit, close=False)


def _choose(texts: list[str], first: int, *, budget: int) -> list[int]:
    """Which lines to show: from the first failing line on and from the end, by turns, then the
    context before it, while they fit `budget` characters and MOST_LINES lines."""
    head, tail = list(range(first, len(texts))), []
    order: list[int] = []
    while head:
        order.append(head.pop(0))
        if head:
            tail.append(head.pop())
            order.append(tail[-1])
    order += reversed(range(max(0, first - CONTEXT), first))
    chosen: list[int] = []
    used = 0
    for i in order:
        cost = len(texts[i]) + 1
        if len(chosen) == MOST_LINES or used + cost > budget:
            break
        chosen.append(i)
        used += cost
    return sorted(chosen)


def _with_gaps(texts: list[str], chosen: list[int]) -> str:
    out: list[str] = []
    at = 0
    for i in chosen:
        if i > at:
            out.append(_gap(i - at))
        out.append(texts[i])
        at = i + 1
    if at < len(texts):
        out.append(_gap(len(texts) - at))
    return "\n".join(out)


def _gap(n: int) -> str:
    return _GAP.format(n=n, s="" if n == 1 else "s")
