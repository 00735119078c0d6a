"""An app's name and a deployment's id as typed after a verb: checked, or a UsageError. Pure."""

from __future__ import annotations

import re
from collections.abc import Collection

from bot.commands.usage import USAGE, VERBS, UsageError, did_you_mean, no_such_app, show, too_long

MAX_NAME = 100  # an app name, a deployment id
APP_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")


def app_named(verb: str, word: str, apps: Collection[str] | None) -> str:
    if len(word) > MAX_NAME:
        raise UsageError(too_long("An app name", MAX_NAME, word), USAGE[verb])
    if not APP_NAME.match(word):
        hint = did_you_mean(word, apps or ())
        raise UsageError(f"That is not an app name: `{show(word)}`.{hint}", USAGE[verb])
    if apps is not None and word not in apps:
        raise no_such_app(word, apps, USAGE[verb])
    return word


def is_app_name(word: str) -> bool:
    """Whether it can be typed after `/deploy` as an app."""
    return len(word) <= MAX_NAME and bool(APP_NAME.match(word)) and word.lower() not in VERBS


def deployment_id(verb: str, word: str) -> str:
    if len(word) > MAX_NAME:
        raise UsageError(too_long("A deployment id", MAX_NAME, word), USAGE[verb])
    if not _ID.match(word):
        raise UsageError(
            f"That is not a deployment id: `{show(word)}` (one is letters, digits, `-` and `_`).",
            USAGE[verb],
        )
    return word
