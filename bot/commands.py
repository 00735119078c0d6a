"""Parse `/deploy ...` text into a typed request, or a UsageError. Pure."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

MAX_TEXT = 1000
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")
_REF = re.compile(r"^(?!-)(?!.*\.\.)[A-Za-z0-9][A-Za-z0-9._/@+-]{0,199}$")
_ENV = re.compile(r"^([A-Za-z_][A-Za-z0-9_]{0,127})=(.{0,1000})$", re.DOTALL)

USAGE = {
    "deploy": "/deploy <app> [ref] [KEY=VALUE ...]",
    "help": "/deploy help",
}


class UsageError(Exception):
    """Not a valid command. `usage` is the line that would have worked."""

    def __init__(self, message: str, usage: str) -> None:
        super().__init__(message)
        self.usage = usage


@dataclass(frozen=True)
class Help:
    pass


@dataclass(frozen=True)
class Deploy:
    app: str
    ref: str | None = None
    env: dict[str, str] = field(default_factory=dict)


Command = Help | Deploy


def parse(text: str) -> Command:
    if len(text) > MAX_TEXT:
        raise UsageError(
            f"That command is {len(text)} characters long; the limit is {MAX_TEXT}.", USAGE["help"]
        )
    words = text.split()
    if not words or words[0].lower() == "help":
        return Help()
    return _deploy(words)


def _deploy(words: list[str]) -> Deploy:
    app, *rest = words
    usage = USAGE["deploy"]
    if not _NAME.match(app):
        raise UsageError(f"`{_show(app)}` is not an app name.", usage)
    ref: str | None = None
    if rest and "=" not in rest[0]:
        ref = rest.pop(0)
        if not _REF.match(ref):
            raise UsageError(f"`{_show(ref)}` is not a branch or commit.", usage)
    env: dict[str, str] = {}
    for word in rest:
        match = _ENV.match(word)
        if not match:
            raise UsageError(f"`{_show(word)}` is not a KEY=VALUE override.", usage)
        env[match[1]] = match[2]
    return Deploy(app=app, ref=ref, env=env)


def _show(word: str) -> str:
    cleaned = "".join(ch if ch.isprintable() and ch != "`" else "?" for ch in word)
    return cleaned if len(cleaned) <= 40 else cleaned[:39] + "…"
