"""`/deploy ...` text into one of the typed commands, verb by verb, or a UsageError: the words
after each verb, counted; an app's are in deploy.py. Pure."""

from __future__ import annotations

from collections.abc import Collection

from bot.commands import (
    DEFAULT_DAYS,
    Apps,
    Command,
    Help,
    History,
    Lock,
    Operate,
    Rollback,
    Stats,
    StatusOf,
    Unlock,
)
from bot.commands.deploy import parse_deploy
from bot.commands.names import app_named, deployment_id
from bot.commands.reasons import checked_reason, split_force
from bot.commands.usage import USAGE, VERBS, UsageError, ascii_int, show

MAX_TEXT = 1000
MAX_DAYS = 365
_FORCEABLE = frozenset({"publish", "restart"})
_NOUNS = {"<app>": "an app name", "<deployment-id>": "a deployment id"}


def parse(text: str, apps: Collection[str] | None = None) -> Command:  # noqa: PLR0911
    """One return per verb. With `apps`, an app name must be one of them (with a suggestion)."""
    words = text.split()
    verb = words[0].lower() if words else "help"
    if len(text) > MAX_TEXT:
        raise UsageError(
            f"That command is {len(text):,} characters long; the limit is {MAX_TEXT:,}.",
            USAGE.get(verb, USAGE["deploy"]),
        )
    if not words:
        return Help()
    if verb not in VERBS:
        return parse_deploy(text, apps)
    args = words[1:]
    match verb:
        case "help":
            return Help()
        case "apps":
            _arity(verb, args, 0, 0)
            return Apps()
        case "status":
            _arity(verb, args, 1, 1)
            return StatusOf(app_named(verb, args[0], apps))
        case "unlock":
            _arity(verb, args, 1, 1)
            return Unlock(app_named(verb, args[0], apps))
        case "history":
            _arity(verb, args, 1, 1)
            return History(app_named(verb, args[0], apps))
        case "stats":
            _arity(verb, args, 1, 2)
            days = _days(args[1]) if len(args) > 1 else DEFAULT_DAYS
            return Stats(app_named(verb, args[0], apps), days)
        case "lock":
            _arity(verb, args, 1, None)
            return Lock(app_named(verb, args[0], apps), checked_reason(args[1:]))
        case "rollback":
            _arity(verb, args, 1, 2)
            target = deployment_id(verb, args[1]) if len(args) > 1 else None
            return Rollback(app_named(verb, args[0], apps), target)
    force = None
    if verb in _FORCEABLE:  # they put a build live, as a deploy does
        args, force = split_force(args)
    _arity(verb, args, 2, 2)
    return Operate(verb, app_named(verb, args[0], apps), deployment_id(verb, args[1]), force)


def _arity(verb: str, args: list[str], least: int, most: int | None) -> None:
    """Too few or too many words; the usage line the answer ends with says the rest."""
    typed = " ".join(["/deploy", verb, *(show(a) for a in args)])
    if len(args) < least:
        wanted = USAGE[verb].split()[2 + len(args)]
        raise UsageError(f"Add {_NOUNS.get(wanted, wanted)} after `{typed}`.", USAGE[verb])
    if most is not None and len(args) > most:
        extra = " ".join(args[most:])
        raise UsageError(f"Leave out `{show(extra)}`: `{verb}` does not take it.", USAGE[verb])


def _days(word: str) -> int:
    days = ascii_int(word, digits=3)
    if days is None or not 1 <= days <= MAX_DAYS:
        raise UsageError(
            f"Give the days as a whole number from 1 to {MAX_DAYS}; `{show(word)}` is not one.",
            USAGE["stats"],
        )
    return days
