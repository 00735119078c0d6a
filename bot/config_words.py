"""Configuration errors in a person's words: one line per problem, naming the key."""

from __future__ import annotations

import re
from typing import Any

from pydantic import ValidationError


def _key(part: object) -> str:
    """A key as written in TOML: bare when it can be, quoted when not."""
    text = str(part)
    return text if re.fullmatch(r"[A-Za-z0-9_-]+", text) else f'"{text}"'


_WORDS = {
    "extra_forbidden": "unknown key",
    "missing": "required key is missing",
    "string_pattern_mismatch": "must be the name of an environment variable",
    "tuple_type": 'must be a list in brackets, like ["a", "b"]',
    "list_type": 'must be a list in brackets, like ["a", "b"]',
    "string_type": 'must be text in quotes, like "main"',
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
    "dict_type": "must be a table ([section])",
    "model_type": "must be a table ([section])",
    "too_short": "needs at least one app: add an [apps.NAME] table",
}


def in_words(error: Any) -> str:
    """One pydantic error as `key: problem` in our words."""
    where = _where(error["loc"]) or "(top level)"
    kind = error["type"]
    if kind == "literal_error":
        problem = f"must be one of {error['ctx']['expected']}"
    elif kind in _WORDS:
        problem = _WORDS[kind]
    else:
        problem = error["msg"].removeprefix("Value error, ")
    if problem.startswith("providers."):  # a file-level rule that names its own key
        where, _, problem = problem.partition(": ")
    return f"{where}: {problem}"


def _where(loc: tuple[int | str, ...]) -> str:
    """A key's place; tables in a list count from 1, as a person counts them: `freezes #1.cron`."""
    where = ""
    for part in loc:
        if isinstance(part, int):
            where += f" #{part + 1}"
        else:
            where += f".{_key(part)}" if where else _key(part)
    return where


def describe_error(exc: Any) -> str:
    """A settings error (bad environment variable) in one line."""
    if isinstance(exc, ValidationError):
        error = exc.errors()[0]
        where = ".".join(str(part) for part in error["loc"]).upper()
        return f"environment: {where}: {error['msg']}"
    return str(exc)
