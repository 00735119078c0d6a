"""A deploy's words, `<app> [ref] [KEY=VALUE ...] [--force "reason"]`, into a Deploy or a
UsageError; and the refs Nometria takes (commit SHAs only). Pure."""

from __future__ import annotations

import re
import shlex
from collections.abc import Collection

from bot.commands import Deploy
from bot.commands.names import APP_NAME, MAX_NAME
from bot.commands.reasons import forced_reason
from bot.commands.usage import (
    USAGE,
    VERBS,
    UsageError,
    closest,
    did_you_mean,
    no_such_app,
    show,
    too_long,
)

MAX_REF = 200
MAX_KEY = 128
MAX_VALUE = 1000
_REF = re.compile(r"^(?!-)(?!.*\.\.)[A-Za-z0-9][A-Za-z0-9._/@+-]*$")
_ENV = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)=(.*)$", re.DOTALL)
_SHA = re.compile(r"^[0-9a-fA-F]{7,40}$")
_FORCE_WORD = re.compile(r"(?<!\S)--force(?!\S)")
_CURLY = str.maketrans({"\u201c": '"', "\u201d": '"'})  # what a phone or macOS types for "


def _tokens(text: str, usage: str) -> list[str]:
    """The words of a deploy as a shell splits them, so `KEY="a b"` is one word (its quotes go,
    as a reason's do); a backslash and a `#` are kept as typed: a value may hold them."""
    lexer = shlex.shlex(text.translate(_CURLY), posix=True)
    lexer.whitespace_split = True
    lexer.escape = ""
    lexer.commenters = ""
    try:
        return list(lexer)
    except ValueError:  # shlex: "No closing quotation"
        raise UsageError(
            'A quote is not closed. Put a value with spaces between two quotes: `KEY="a b"`.',
            usage,
        ) from None


def parse_deploy(text: str, apps: Collection[str] | None) -> Deploy:
    """`<app> [ref] [KEY=VALUE ...] [--force reason]`: the reason is free text (an apostrophe
    is not a quote there), the words before it are split as a shell does."""
    force = None
    if (marker := _FORCE_WORD.search(text)) is not None:
        force = forced_reason(text[marker.end() :].split())
        text = text[: marker.start()]
    words = _tokens(text, USAGE["force" if force else "deploy"])
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
                if APP_NAME.match(app)
                else f"There is no app or command called `{show(app)}`."
            )
            raise UsageError(f"{head} Did you mean `/deploy {show(typed)}`?", USAGE[verb])
    if len(app) > MAX_NAME:
        raise UsageError(too_long("An app name", MAX_NAME, app), usage)
    if not APP_NAME.match(app):
        hint = did_you_mean(app, apps or ())
        raise UsageError(f"There is no app or command called `{show(app)}`.{hint}", usage)
    if apps is not None and app not in apps:
        raise no_such_app(app, apps, usage)
    ref: str | None = None
    if rest and "=" not in rest[0]:
        ref = rest.pop(0)
        if len(ref) > MAX_REF:
            raise UsageError(too_long("A branch or commit", MAX_REF, ref), usage)
        if not _REF.match(ref):
            raise UsageError(f"That is not a branch or commit: `{show(ref)}`.", usage)
    return Deploy(app=app, ref=ref, env=_overrides(rest, usage), force=force)


def _overrides(words: list[str], usage: str) -> dict[str, str]:
    env: dict[str, str] = {}
    for word in words:
        match = _ENV.match(word)
        if not match:
            raise UsageError(_not_an_override(word), usage)
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
            raise UsageError(f"Give each override once: `{key}` is given twice.", usage)
        env[key] = value
    return env


def _not_an_override(word: str) -> str:
    key = word.split("=", 1)[0]
    if "=" not in word or not key:
        return f"After the ref come KEY=VALUE overrides only; `{show(word)}` is not one."
    return (
        f"An override's name is letters, digits and `_`, not starting with a digit "
        f"(`LOG_LEVEL=debug`); `{show(key)}` is not one."
    )


def commit_only(app: str, ref: str | None) -> None:
    """Nometria deploys commits of the project's connected branch (`commit_sha`): a ref there
    is a commit SHA, 7 to 40 hex characters, or nothing for the branch's latest commit."""
    if ref is not None and not _SHA.fullmatch(ref):
        raise UsageError(
            f"Nometria deploys commits of the branch `{app}` is connected to: "
            f"`{ref}` is not a commit SHA (7 to 40 hex characters). Give a commit of that "
            f"branch (`/deploy {app} a1b2c3d`), or nothing for its latest commit.",
            USAGE["deploy"],
        )
