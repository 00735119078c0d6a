"""Settings from the environment and the apps file. The only module that reads either."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from dotenv import dotenv_values
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.commands import VERBS
from bot.freezes import EVERY_APP, Freeze

PROVIDERS = ("nometria", "stormkit", "sandbox")
DEFAULT_BASE_URLS = {
    "nometria": "https://api.nometria.com",
    "stormkit": "https://api.stormkit.io",
    "sandbox": "sandbox://local",
}
DEFAULT_KEY_ENV = {"nometria": "NOMETRIA_API_KEY", "stormkit": "STORMKIT_API_KEY"}


class ConfigError(Exception):
    """The configuration cannot be used; the message is one line for a person."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    slack_bot_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_api_url: str = "https://slack.com/api/"
    deploybot_config: Path = Path("deploybot.toml")
    deploybot_database_url: str = "sqlite:///deploybot.db"
    deploybot_poll_interval: float = Field(default=10.0, gt=0)
    port: int = Field(default=3000, ge=0, le=65535)
    # Operations: how the bot behaves under load and faults (README, "Operations").
    deploybot_channel_pace: float = Field(default=1.0, ge=0)
    deploybot_lease_seconds: float | None = Field(default=None, gt=0)
    deploybot_outage_notice_after: float = Field(default=120.0, ge=0)
    deploybot_max_duration: float = Field(default=3600.0, gt=0)
    deploybot_poll_concurrency: int = Field(default=50, ge=1, le=1000)

    @property
    def lease_seconds(self) -> float:
        """How long a replica holds a deployment it polls; three missed polls, at least 30s."""
        return self.deploybot_lease_seconds or max(30.0, 3 * self.deploybot_poll_interval)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ProviderSettings(_Strict):
    base_url: str


class AppConfig(_Strict):
    """One deployable app and its rules, as written in the apps file."""

    name: str = ""
    provider: Literal["nometria", "stormkit", "sandbox"]
    project_id: str | None = None
    env_id: str | None = None
    api_key_env: str | None = Field(default=None, pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")
    default_branch: str | None = None
    approval: bool = False
    deployers: tuple[str, ...] = ()
    approvers: tuple[str, ...] = ()
    allow_self_approval: bool = False
    channels: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _rules_hold(self) -> AppConfig:
        if self.approval and not self.approvers:
            raise ValueError("approval = true needs at least one approver in `approvers`")
        if self.provider == "nometria" and not self.project_id:
            raise ValueError("a nometria app needs `project_id`")
        return self

    @property
    def key_env(self) -> str | None:
        return self.api_key_env or DEFAULT_KEY_ENV.get(self.provider)


class AppsFile(_Strict):
    incident_channels: tuple[str, ...] = ()
    providers: dict[Literal["nometria", "stormkit", "sandbox"], ProviderSettings] = {}
    apps: dict[str, AppConfig] = Field(min_length=1)
    freezes: tuple[Freeze, ...] = ()  # after apps: its check reads the app names

    @field_validator("apps")
    @classmethod
    def _names_are_not_commands(cls, apps: dict[str, AppConfig]) -> dict[str, AppConfig]:
        for name in apps:
            if name.lower() in VERBS:
                raise ValueError(f"`{name}` is a /deploy command; give the app another name")
        return apps

    @field_validator("freezes")
    @classmethod
    def _freezes_name_apps(
        cls, freezes: tuple[Freeze, ...], info: ValidationInfo
    ) -> tuple[Freeze, ...]:
        apps = info.data.get("apps", {})
        for number, freeze in enumerate(freezes, 1):
            unknown = [name for name in freeze.apps if name != EVERY_APP and name not in apps]
            if unknown:
                raise ValueError(
                    f"freeze #{number} names an unknown app `{unknown[0]}` "
                    f"(the apps are: {', '.join(sorted(apps))})"
                )
        return freezes


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
    """Load and validate; raise ConfigError with one line naming file, key and problem."""
    settings = settings or Settings()
    path = settings.deploybot_config
    apps_file = parse_apps_file(path)
    env = _environment(environ)
    keys: dict[str, SecretStr] = {}
    for name, app in apps_file.apps.items():
        if app.provider == "sandbox":
            continue
        key = env.get(app.key_env or "")
        if not key:
            raise ConfigError(
                f"{path}: apps.{name}: the {app.provider} key is not set "
                f"(set the environment variable {app.key_env})"
            )
        keys[name] = SecretStr(key)
    return Config(
        settings=settings,
        apps={name: app.model_copy(update={"name": name}) for name, app in apps_file.apps.items()},
        incident_channels=apps_file.incident_channels,
        base_urls={name: p.base_url.rstrip("/") for name, p in apps_file.providers.items()},
        api_keys=keys,
        freezes=apps_file.freezes,
    )


def parse_apps_file(path: Path) -> AppsFile:
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found (set DEPLOYBOT_CONFIG)") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot be read: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    try:
        return AppsFile.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(f"{path}: {_first_problem(exc)}") from None


def _first_problem(exc: ValidationError) -> str:
    error = exc.errors()[0]
    where = _where(error["loc"]) or "(top level)"
    problem = {
        "extra_forbidden": "unknown key",
        "missing": "required key is missing",
        "string_pattern_mismatch": "must be the name of an environment variable",
    }.get(error["type"], error["msg"].removeprefix("Value error, "))
    return f"{where}: {problem}"


def _where(loc: tuple[int | str, ...]) -> str:
    """A key's place; tables in a list count from 1, as a person counts them: `freezes #1.cron`."""
    where = ""
    for part in loc:
        if isinstance(part, int):
            where += f" #{part + 1}"
        else:
            where += f".{part}" if where else part
    return where


def _environment(environ: Mapping[str, str] | None) -> dict[str, str]:
    if environ is not None:
        return dict(environ)
    from_file = {k: v for k, v in dotenv_values(".env").items() if v is not None}
    return from_file | dict(os.environ)


def describe_error(exc: Any) -> str:
    """A settings error (bad environment variable) in one line."""
    if isinstance(exc, ValidationError):
        error = exc.errors()[0]
        where = ".".join(str(part) for part in error["loc"]).upper()
        return f"environment: {where}: {error['msg']}"
    return str(exc)
