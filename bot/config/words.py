"""Configuration errors in a person's words: one line per problem, naming the key."""

from __future__ import annotations

import re
import types
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError

from bot.commands.usage import closest


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


def in_words(error: Any, model: type[BaseModel] | None = None) -> str:
    """One pydantic error as `key: problem` in our words; an unknown key of `model` (the file's
    shape) gets the known key it most looks like, as a mistyped command does."""
    where = _where(error["loc"]) or "(top level)"
    kind = error["type"]
    if kind == "literal_error":
        problem = f"must be one of {error['ctx']['expected']}"
    elif kind == "extra_forbidden" and model is not None:
        problem = _WORDS[kind] + _did_you_mean(model, error["loc"])
    elif kind in _WORDS:
        problem = _WORDS[kind]
    else:
        problem = error["msg"].removeprefix("Value error, ")
    if problem.startswith("providers."):  # a file-level rule that names its own key
        where, _, problem = problem.partition(": ")
    return f"{where}: {problem}"


def _did_you_mean(model: type[BaseModel], loc: tuple[int | str, ...]) -> str:
    known = keys_at(model, loc[:-1])
    close = closest(str(loc[-1]), known)
    return f"; did you mean `{close}`?" if close else f" (the keys here: {', '.join(known)})"


def keys_at(model: type[BaseModel], loc: tuple[int | str, ...]) -> list[str]:
    """The keys the table at `loc` may have: `apps.web` is an app's table, `freezes #1` a
    freeze's. Empty when `loc` is not a table of `model`."""
    kind: Any = model
    for part in loc:
        kind = _unwrapped(kind)
        if isinstance(kind, type) and issubclass(kind, BaseModel):
            field = kind.model_fields.get(part) if isinstance(part, str) else None
            if field is None:
                return []
            kind = field.annotation
        elif get_origin(kind) is dict:
            kind = get_args(kind)[1]
        elif get_origin(kind) in {tuple, list}:
            kind = get_args(kind)[0]
        else:
            return []
    kind = _unwrapped(kind)
    if isinstance(kind, type) and issubclass(kind, BaseModel):
        return [name for name, field in kind.model_fields.items() if not field.exclude]
    return []


def _unwrapped(kind: Any) -> Any:
    """`X | None` and `Annotated[X, ...]` are X here."""
    while get_origin(kind) in {Annotated, Union, types.UnionType}:
        args = [arg for arg in get_args(kind) if arg is not type(None)]
        if get_origin(kind) is not Annotated and len(args) != 1:
            return kind
        kind = args[0]
    return kind


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
    """A settings error (bad environment variables): a line for each."""
    if isinstance(exc, ValidationError):
        return "\n".join(env_in_words(error) for error in exc.errors())
    return str(exc)


def env_in_words(error: Any) -> str:
    """One environment variable's problem, named as it is set: `environment: PORT: ...`."""
    where = ".".join(str(part) for part in error["loc"]).upper()
    return f"environment: {where}: {error['msg'].removeprefix('Value error, ')}"


KEY_SOURCES = {
    "nometria": "the Nometria API key (sent as `Authorization: Bearer`)",
    "stormkit": "a Stormkit API key: in Stormkit, your app → the environment → Config → Other → "
    "API Keys (an app, team or user key needs `env_id` too)",
}


def missing_keys(
    path: Path, needs: Mapping[str, tuple[str, str]], env: Mapping[str, str]
) -> list[str]:
    """A line per unset key variable (`needs`: each app's provider and variable), naming
    the apps that need it and where its value comes from."""
    needing: dict[tuple[str, str], list[str]] = {}
    for name, (provider, variable) in needs.items():
        if not env.get(variable):
            needing.setdefault((variable, provider), []).append(f"apps.{name}")
    return [
        f"{path}: {', '.join(names)}: the {provider} key is not set: set {variable} "
        f"(in the environment or .env) to {KEY_SOURCES[provider]}"
        for (variable, provider), names in needing.items()
    ]
