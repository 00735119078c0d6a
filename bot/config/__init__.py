"""The configuration the bot runs on: `load()` reads the settings (settings.py) and the apps
file (apps.py), resolves each app's provider key from the environment, and says every problem
at once, a line each, in a ConfigError. The only package that reads the environment or the apps
file."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, SecretStr, ValidationError

from bot.config.apps import (
    DEFAULT_BASE_URLS,
    AppConfig,
    AppsFile,
    app_tables,
    key_variables,
    name_problems,
)
from bot.config.freezes import Freeze
from bot.config.settings import Settings, environment
from bot.config.words import in_words, missing_keys


class ConfigError(Exception):
    """The configuration cannot be used; the message is one line for a person."""


class Config(BaseModel):
    """Everything the bot runs on: settings, apps, and each app's resolved key."""

    model_config = ConfigDict(frozen=True)

    settings: Settings
    apps: dict[str, AppConfig]
    incident_channels: tuple[str, ...]
    base_urls: dict[str, str]
    api_keys: dict[str, SecretStr]
    freezes: tuple[Freeze, ...] = ()

    def base_url(self, provider: str) -> str:
        return self.base_urls.get(provider, DEFAULT_BASE_URLS[provider])


def load(settings: Settings | None = None, environ: Mapping[str, str] | None = None) -> Config:
    """Load and validate; raise ConfigError with a line per problem: file, key and problem.
    A key missing from the environment is said beside the file's problems, not a run later."""
    settings = settings or Settings()
    path = settings.deploybot_config
    raw = _read(path, named="deploybot_config" in settings.model_fields_set)
    apps_file, problems = _checked(raw)
    problems = [f"{path}: {problem}" for problem in problems]
    needs, env = key_variables(raw), environment(environ)
    problems += missing_keys(path, needs, env)
    if problems or apps_file is None:
        raise ConfigError("\n".join(problems))
    return Config(
        settings=settings,
        apps={name: app.model_copy(update={"name": name}) for name, app in apps_file.apps.items()},
        incident_channels=apps_file.incident_channels,
        base_urls={name: p.base_url.rstrip("/") for name, p in apps_file.providers.items()},
        api_keys={name: SecretStr(env[variable]) for name, (_, variable) in needs.items()},
        freezes=apps_file.freezes,
    )


def _checked(raw: Mapping[str, Any]) -> tuple[AppsFile | None, list[str]]:
    """The file's tables validated, or None; its problems, a line each."""
    problems = name_problems(app_tables(raw))
    try:
        return AppsFile.model_validate(raw), problems
    except ValidationError as exc:
        return None, problems + [in_words(error, AppsFile) for error in exc.errors()]


def _read(path: Path, *, named: bool) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        start = f"start from the example: cp deploybot.example.toml {path}"
        if named:  # by --config or DEPLOYBOT_CONFIG: the person chose this path
            raise ConfigError(f"{path}: file not found (to {start})") from None
        raise ConfigError(
            f"{path}: file not found: {start} (or name your apps file with --config FILE "
            "or DEPLOYBOT_CONFIG)"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot be read: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
