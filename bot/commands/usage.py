"""What a `/deploy` command should look like, and the words for one that does not: the usage
lines, the error, the echo of what was typed and the "did you mean"; and what a typed number is."""

from __future__ import annotations

import difflib
import unicodedata
from collections.abc import Collection

from bot.mrkdwn import escape, unescape

USAGE = {
    "deploy": "/deploy <app> [ref] [KEY=VALUE ...]",
    "force": '/deploy <app> [ref] [KEY=VALUE ...] --force "reason"',
    "apps": "/deploy apps",
    "status": "/deploy status <app>",
    "logs": "/deploy logs <app> <deployment-id>",
    "publish": "/deploy publish <app> <deployment-id>",
    "rollback": "/deploy rollback <app> [deployment-id]",
    "stop": "/deploy stop <app> <deployment-id>",
    "restart": "/deploy restart <app> <deployment-id>",
    "lock": "/deploy lock <app> [reason]",
    "unlock": "/deploy unlock <app>",
    "history": "/deploy history <app>",
    "stats": "/deploy stats <app> [days]",
    "help": "/deploy help",
}
VERBS = frozenset(USAGE) - {"deploy", "force"}
FORCE = "--force"


def ascii_int(word: str, *, digits: int = 18) -> int | None:
    """The whole number `word` spells in ASCII digits (at most `digits` of them), or None.

    The one reading of a number a person (or a request) typed: `str.isdigit()` also takes "²"
    and "①", on which `int()` raises, and "\u0663", which `int()` reads as 3.
    """
    if 0 < len(word) <= digits and word.isascii() and word.isdigit():
        return int(word)
    return None


class UsageError(Exception):
    """Not a valid command. `usage` is the line that would have worked."""

    def __init__(self, message: str, usage: str) -> None:
        super().__init__(message)
        self.usage = usage


def no_such_app(name: str, apps: Collection[str], usage: str) -> UsageError:
    known = ", ".join(f"`{a}`" for a in sorted(apps))
    hint = did_you_mean(name, apps)
    return UsageError(f"There is no app called `{show(name)}`.{hint} Apps: {known}.", usage)


def _fold(word: str) -> str:
    """For suggestions only: `Wéb` and `web` look alike to a person."""
    decomposed = unicodedata.normalize("NFKD", word)
    kept = (ch for ch in decomposed if unicodedata.category(ch) not in {"Mn", "Cf"})
    return "".join(kept).casefold()


def closest(word: str, choices: Collection[str]) -> str | None:
    folded = {_fold(choice): choice for choice in choices}
    typed = _fold(word)
    close = difflib.get_close_matches(typed, list(folded), n=3, cutoff=0.6)
    # Swapped letters are the commonest slip: `stauts` is `status`, not the closer `stats`.
    swapped = [c for c in close if sorted(c) == sorted(typed)]
    return folded[(swapped or close)[0]] if close else None


def did_you_mean(word: str, apps: Collection[str]) -> str:
    close = closest(word, apps)
    return f" Did you mean `{close}`?" if close else ""


def too_long(what: str, limit: int, word: str) -> str:
    return f"{what} is at most {limit} characters; `{show(word)}` has {len(word)}."


def show(word: str) -> str:
    """A word the person typed, echoed back: printable, clipped, and never read as markup."""
    cleaned = "".join(ch if ch.isprintable() and ch != "`" else "?" for ch in unescape(word))
    return escape(cleaned if len(cleaned) <= 40 else cleaned[:39] + "…")
