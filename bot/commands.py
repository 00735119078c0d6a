"""Parse `/deploy ...` text into a typed request, or a UsageError. Pure."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

MAX_TEXT = 1000
MAX_REASON = 300
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")
_REF = re.compile(r"^(?!-)(?!.*\.\.)[A-Za-z0-9][A-Za-z0-9._/@+-]{0,199}$")
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$")
_ENV = re.compile(r"^([A-Za-z_][A-Za-z0-9_]{0,127})=(.{0,1000})$", re.DOTALL)
_SHA = re.compile(r"^[0-9a-fA-F]{7,40}$")

USAGE = {
    "deploy": "/deploy <app> [ref] [KEY=VALUE ...]",
    "apps": "/deploy apps",
    "status": "/deploy status <app>",
    "logs": "/deploy logs <app> <deployment-id>",
    "publish": "/deploy publish <app> <deployment-id>",
    "rollback": "/deploy rollback <app> [deployment-id]",
    "stop": "/deploy stop <app> <deployment-id>",
    "restart": "/deploy restart <app> <deployment-id>",
    "lock": "/deploy lock <app> [reason]",
    "unlock": "/deploy unlock <app>",
    "help": "/deploy help",
}
VERBS = frozenset(USAGE) - {"deploy"}


class UsageError(Exception):
    """Not a valid command. `usage` is the line that would have worked."""

    def __init__(self, message: str, usage: str) -> None:
        super().__init__(message)
        self.usage = usage


@dataclass(frozen=True)
class Help:
    pass


@dataclass(frozen=True)
class Apps:
    pass


@dataclass(frozen=True)
class Deploy:
    app: str
    ref: str | None = None
    env: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Status:
    app: str


@dataclass(frozen=True)
class Lock:
    app: str
    reason: str = ""


@dataclass(frozen=True)
class Unlock:
    app: str


@dataclass(frozen=True)
class Rollback:
    app: str
    deployment_id: str | None = None


@dataclass(frozen=True)
class Operate:
    """logs, publish, stop, restart: a verb on one deployment."""

    verb: str
    app: str
    deployment_id: str


Command = Help | Apps | Deploy | Status | Lock | Unlock | Rollback | Operate
AppCommand = Deploy | Status | Lock | Unlock | Rollback | Operate


def parse(text: str) -> Command:  # noqa: PLR0911 - one return per verb reads best
    if len(text) > MAX_TEXT:
        raise UsageError(
            f"That command is {len(text)} characters long; the limit is {MAX_TEXT}.", USAGE["help"]
        )
    words = text.split()
    if not words:
        return Help()
    verb = words[0].lower()
    if verb not in VERBS:
        return _deploy(words)
    args = words[1:]
    match verb:
        case "help":
            return Help()
        case "apps":
            _arity(verb, args, 0, 0)
            return Apps()
        case "status":
            _arity(verb, args, 1, 1)
            return Status(_app(verb, args[0]))
        case "unlock":
            _arity(verb, args, 1, 1)
            return Unlock(_app(verb, args[0]))
        case "lock":
            _arity(verb, args, 1, None)
            return Lock(_app(verb, args[0]), _reason(args[1:]))
        case "rollback":
            _arity(verb, args, 1, 2)
            target = _id(verb, args[1]) if len(args) > 1 else None
            return Rollback(_app(verb, args[0]), target)
    _arity(verb, args, 2, 2)
    return Operate(verb, _app(verb, args[0]), _id(verb, args[1]))


def _arity(verb: str, args: list[str], least: int, most: int | None) -> None:
    if len(args) < least:
        raise UsageError(f"`{verb}` needs more: {USAGE[verb]}.", USAGE[verb])
    if most is not None and len(args) > most:
        extra = " ".join(args[most:])
        raise UsageError(f"`{verb}` does not take `{_show(extra)}`.", USAGE[verb])


def _app(verb: str, word: str) -> str:
    if not _NAME.match(word):
        raise UsageError(f"`{_show(word)}` is not an app name.", USAGE[verb])
    return word


def _id(verb: str, word: str) -> str:
    if not _ID.match(word):
        raise UsageError(f"`{_show(word)}` is not a deployment id.", USAGE[verb])
    return word


def _reason(words: list[str]) -> str:
    reason = " ".join(words)
    if len(reason) > MAX_REASON:
        raise UsageError(f"Keep the reason under {MAX_REASON} characters.", USAGE["lock"])
    if any(not ch.isprintable() for ch in reason):
        raise UsageError("The reason has characters I can't show.", USAGE["lock"])
    return reason


def _deploy(words: list[str]) -> Deploy:
    app, *rest = words
    usage = USAGE["deploy"]
    if not _NAME.match(app):
        raise UsageError(f"`{_show(app)}` is not an app name or a command.", usage)
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
        if not match[2].isprintable():
            raise UsageError(f"The value of `{match[1]}` has characters I can't pass on.", usage)
        env[match[1]] = match[2]
    return Deploy(app=app, ref=ref, env=env)


def _show(word: str) -> str:
    cleaned = "".join(ch if ch.isprintable() and ch != "`" else "?" for ch in word)
    return cleaned if len(cleaned) <= 40 else cleaned[:39] + "…"


def commit_only(app: str, ref: str | None) -> None:
    """Nometria deploys commits of the project's connected branch (`commit_sha`): a ref there
    is a commit SHA, 7 to 40 hex characters, or nothing for the branch's latest commit."""
    if ref is not None and not _SHA.fullmatch(ref):
        raise UsageError(
            f"`{app}` is on Nometria, which deploys commits of its connected branch: "
            f"`{ref}` is not a commit SHA (7 to 40 hex characters). Give a commit of that "
            "branch, or nothing for its latest commit.",
            USAGE["deploy"],
        )
