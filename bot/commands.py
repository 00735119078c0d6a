"""Parse `/deploy ...` text into a typed request, or a UsageError. Pure."""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass, field

from bot.usage import (
    FORCE,
    USAGE,
    VERBS,
    UsageError,
    closest,
    did_you_mean,
    no_such_app,
    show,
    too_long,
)

MAX_TEXT = 1000
MAX_REASON = 300
MAX_NAME = 100  # an app name, a deployment id
MAX_REF = 200
MAX_KEY = 128
MAX_VALUE = 1000
DEFAULT_DAYS = 30
MAX_DAYS = 365
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_REF = re.compile(r"^(?!-)(?!.*\.\.)[A-Za-z0-9][A-Za-z0-9._/@+-]*$")
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")
_ENV = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)=(.*)$", re.DOTALL)
_SHA = re.compile(r"^[0-9a-fA-F]{7,40}$")


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
    force: str | None = None  # break glass: deploy during a freeze or a lock, for this reason


@dataclass(frozen=True)
class StatusOf:
    """`status <app>`: named apart from models.Status, the state of a deployment."""

    app: str


@dataclass(frozen=True)
class History:
    app: str


@dataclass(frozen=True)
class Stats:
    app: str
    days: int = DEFAULT_DAYS


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


Command = Help | Apps | Deploy | StatusOf | History | Stats | Lock | Unlock | Rollback | Operate
AppCommand = Deploy | StatusOf | History | Stats | Lock | Unlock | Rollback | Operate


def parse(text: str, apps: Collection[str] | None = None) -> Command:  # noqa: PLR0911
    """One return per verb. With `apps`, an app name must be one of them (with a suggestion)."""
    words = text.split()
    verb = words[0].lower() if words else "help"
    if len(text) > MAX_TEXT:
        raise UsageError(
            f"That command is too long: {len(text)} characters long; the limit is {MAX_TEXT}.",
            USAGE.get(verb, USAGE["deploy"]),
        )
    if not words:
        return Help()
    if verb not in VERBS:
        return _deploy(words, apps)
    args = words[1:]
    match verb:
        case "help":
            return Help()
        case "apps":
            _arity(verb, args, 0, 0)
            return Apps()
        case "status":
            _arity(verb, args, 1, 1)
            return StatusOf(_app(verb, args[0], apps))
        case "unlock":
            _arity(verb, args, 1, 1)
            return Unlock(_app(verb, args[0], apps))
        case "history":
            _arity(verb, args, 1, 1)
            return History(_app(verb, args[0], apps))
        case "stats":
            _arity(verb, args, 1, 2)
            days = _days(args[1]) if len(args) > 1 else DEFAULT_DAYS
            return Stats(_app(verb, args[0], apps), days)
        case "lock":
            _arity(verb, args, 1, None)
            return Lock(_app(verb, args[0], apps), _reason(args[1:]))
        case "rollback":
            _arity(verb, args, 1, 2)
            target = _id(verb, args[1]) if len(args) > 1 else None
            return Rollback(_app(verb, args[0], apps), target)
    _arity(verb, args, 2, 2)
    return Operate(verb, _app(verb, args[0], apps), _id(verb, args[1]))


def _arity(verb: str, args: list[str], least: int, most: int | None) -> None:
    if len(args) < least:
        raise UsageError(f"`{verb}` needs more: {USAGE[verb]}.", USAGE[verb])
    if most is not None and len(args) > most:
        extra = " ".join(args[most:])
        raise UsageError(f"`{verb}` does not take `{show(extra)}`.", USAGE[verb])


def _app(verb: str, word: str, apps: Collection[str] | None) -> str:
    if len(word) > MAX_NAME:
        raise UsageError(too_long("An app name", MAX_NAME, word), USAGE[verb])
    if not _NAME.match(word):
        hint = did_you_mean(word, apps or ())
        raise UsageError(f"`{show(word)}` is not an app name.{hint}", USAGE[verb])
    if apps is not None and word not in apps:
        raise no_such_app(word, apps, USAGE[verb])
    return word


def is_app_name(word: str) -> bool:
    """Whether it can be typed after `/deploy` as an app."""
    return len(word) <= MAX_NAME and bool(_NAME.match(word)) and word.lower() not in VERBS


def _id(verb: str, word: str) -> str:
    if len(word) > MAX_NAME:
        raise UsageError(too_long("A deployment id", MAX_NAME, word), USAGE[verb])
    if not _ID.match(word):
        raise UsageError(f"`{show(word)}` is not a deployment id.", USAGE[verb])
    return word


def _days(word: str) -> int:
    if not (word.isascii() and word.isdigit()) or not 1 <= int(word) <= MAX_DAYS:
        raise UsageError(
            f"`{show(word)}` is not a number of days: give a whole number from 1 to {MAX_DAYS}.",
            USAGE["stats"],
        )
    return int(word)


def reason_problem(reason: str) -> str | None:
    """What is wrong with a reason typed in a form (a rollback's), or None."""
    if not reason.strip():
        return "Say why, in a few words."
    try:
        _reason([reason], USAGE["rollback"])
    except UsageError as exc:
        return str(exc)
    return None


def _reason(words: list[str], usage: str = USAGE["lock"]) -> str:
    reason = " ".join(words)
    if len(reason) > MAX_REASON:
        raise UsageError(f"Keep the reason under {MAX_REASON} characters.", usage)
    if any(not ch.isprintable() for ch in reason):
        raise UsageError("The reason has characters I can't show.", usage)
    return reason


def _force(words: list[str]) -> tuple[list[str], str | None]:
    """Split off `--force "reason"`: everything after it is the reason, quotes optional."""
    if FORCE not in words:
        return words, None
    at = words.index(FORCE)
    reason = _reason(words[at + 1 :], USAGE["force"]).strip().strip("\"'“”").strip()
    if not reason:
        raise UsageError(
            'Deploying anyway needs a reason everyone can read: `--force "why"`.',
            USAGE["force"],
        )
    return words[:at], reason


def _deploy(words: list[str], apps: Collection[str] | None) -> Deploy:
    words, force = _force(words)
    if not words:
        raise UsageError("Which app? Name it before `--force`.", USAGE["force"])
    app, *rest = words
    usage = USAGE["deploy"]
    if apps is not None and app not in apps and closest(app, apps) is None:
        verb = closest(app, VERBS)
        if verb is not None:  # `/deploy rollbak web`: a verb mistyped, not an app
            typed = " ".join([verb, *rest])
            head = (
                f"There is no app called `{show(app)}`."
                if _NAME.match(app)
                else f"`{show(app)}` is not an app name or a command."
            )
            raise UsageError(f"{head} Did you mean `/deploy {show(typed)}`?", USAGE[verb])
    if len(app) > MAX_NAME:
        raise UsageError(too_long("An app name", MAX_NAME, app), usage)
    if not _NAME.match(app):
        hint = did_you_mean(app, apps or ())
        raise UsageError(f"`{show(app)}` is not an app name or a command.{hint}", usage)
    if apps is not None and app not in apps:
        raise no_such_app(app, apps, usage)
    ref: str | None = None
    if rest and "=" not in rest[0]:
        ref = rest.pop(0)
        if len(ref) > MAX_REF:
            raise UsageError(too_long("A branch or commit", MAX_REF, ref), usage)
        if not _REF.match(ref):
            raise UsageError(f"`{show(ref)}` is not a branch or commit.", usage)
    return Deploy(app=app, ref=ref, env=_overrides(rest, usage), force=force)


def _overrides(words: list[str], usage: str) -> dict[str, str]:
    env: dict[str, str] = {}
    for word in words:
        match = _ENV.match(word)
        if not match:
            raise UsageError(f"`{show(word)}` is not a KEY=VALUE override.", usage)
        key, value = match[1], match[2]
        if len(key) > MAX_KEY:
            raise UsageError(too_long("An override's name", MAX_KEY, key), usage)
        if len(value) > MAX_VALUE:
            raise UsageError(
                f"The value of `{show(key)}` is {len(value)} characters; the limit is {MAX_VALUE}.",
                usage,
            )
        if not value.isprintable():
            raise UsageError(f"The value of `{key}` has characters I can't pass on.", usage)
        if key in env:
            raise UsageError(f"`{key}` is given twice: give each override once.", usage)
        env[key] = value
    return env


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
