"""Settings from the environment and the apps file. The only module that reads either."""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from dotenv import dotenv_values
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    StrictBool,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.commands import is_app_name
from bot.config_words import in_words
from bot.freezes import EVERY_APP, Freeze
from bot.usage import VERBS

PROVIDERS = ("nometria", "stormkit", "sandbox")
DEFAULT_BASE_URLS = {
    "nometria": "https://api.nometria.com",
    "stormkit": "https://api.stormkit.io",
    "sandbox": "sandbox://local",
}
DEFAULT_KEY_ENV = {"nometria": "NOMETRIA_API_KEY", "stormkit": "STORMKIT_API_KEY"}
POLL_LEASE_INTERVALS = 2  # a poll lease lasts this many poll intervals


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
    deploybot_channel_pace: float = Field(default=1.0, ge=0)  # seconds a post, per channel
    deploybot_channel_burst: int = Field(default=3, ge=1)  # posts back to back after a lull
    deploybot_edits_per_minute: float = Field(default=50.0, ge=0)  # chat.update, Tier 3; 0: any
    deploybot_lease_seconds: float | None = Field(default=None, gt=0)
    deploybot_outage_notice_after: float = Field(default=120.0, ge=0)
    deploybot_max_duration: float = Field(default=3600.0, gt=0)
    deploybot_poll_concurrency: int = Field(default=50, ge=1, le=1000)
    deploybot_failure_dms: bool = True  # the requester of a failed deployment gets a DM
    deploybot_home_refresh: float = Field(default=10.0, ge=0)  # seconds between Home refreshes

    @property
    def poll_lease_seconds(self) -> float:
        """How long a replica holds the deployments it polls, renewed at each tick's start (and
        at the end of a long one).

        Two intervals: a replica that dies has its deployments taken over by the next tick of
        another one after that, so within three intervals of its last renewal.
        """
        return POLL_LEASE_INTERVALS * self.deploybot_poll_interval

    @property
    def claim_seconds(self) -> float:
        """How long a replica holds a message it is sending: longer than a Slack call can take."""
        return self.deploybot_lease_seconds or 30.0


def _slack_id(kind: str, prefixes: str, example: str, where: str) -> Any:
    pattern = re.compile(rf"^[{prefixes}][A-Z0-9]{{2,}}$")

    def check(value: str) -> str:
        if not pattern.match(value):
            hint = " (a name, not an ID)" if value.startswith(("@", "#")) else ""
            raise ValueError(
                f'"{value}" is not a Slack {kind} ID{hint}: write one like "{example}" ({where})'
            )
        return value

    return AfterValidator(check)


UserId = Annotated[str, _slack_id("user", "UW", "U0123ABCD", "profile, ⋮ menu, Copy member ID")]
ChannelId = Annotated[
    str, _slack_id("channel", "CGD", "C0123ABCD", "the channel's details, at the bottom")
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ProviderSettings(_Strict):
    base_url: str

    @field_validator("base_url")
    @classmethod
    def _is_a_url(cls, url: str) -> str:
        parsed = urlsplit(url)
        if parsed.scheme not in {"http", "https", "sandbox"} or not parsed.netloc:
            raise ValueError(f'"{url}" is not an http(s) URL, like "https://api.example.com"')
        return url


class AppConfig(_Strict):
    """One deployable app and its rules, as written in the apps file."""

    name: str = ""
    provider: Literal["nometria", "stormkit", "sandbox"]
    project_id: str | None = None
    env_id: str | None = None
    api_key_env: str | None = Field(default=None, pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")
    default_branch: str | None = None
    approval: StrictBool = False
    deployers: tuple[UserId, ...] = ()
    approvers: tuple[UserId, ...] = ()
    allow_self_approval: StrictBool = False
    channels: tuple[ChannelId, ...] = ()

    @model_validator(mode="after")
    def _rules_hold(self) -> AppConfig:
        if self.approval and not self.approvers:
            raise ValueError("approval = true needs at least one approver in `approvers`")
        if self.provider == "nometria" and not self.project_id:
            raise ValueError("a nometria app needs `project_id`")
        return self

    @property
    def sole_approver(self) -> str | None:
        """The one approver of an approval app, who may deploy it but not approve their own
        deployment: nobody can approve what they ask for."""
        if self.approval and len(self.approvers) == 1 and not self.allow_self_approval:
            return self.approvers[0]
        return None

    @property
    def key_env(self) -> str | None:
        return self.api_key_env or DEFAULT_KEY_ENV.get(self.provider)


class AppsFile(_Strict):
    incident_channels: tuple[ChannelId, ...] = ()
    providers: dict[Literal["nometria", "stormkit", "sandbox"], ProviderSettings] = {}
    apps: dict[str, AppConfig] = Field(min_length=1)
    freezes: tuple[Freeze, ...] = ()  # after apps: its check reads the app names

    @field_validator("freezes")
    @classmethod
    def _freezes_name_apps(
        cls, freezes: tuple[Freeze, ...], info: ValidationInfo
    ) -> tuple[Freeze, ...]:
        if "apps" not in info.data:  # the apps are wrong: said already, no guessing here
            return freezes
        apps = info.data["apps"]
        for number, freeze in enumerate(freezes, 1):
            unknown = [name for name in freeze.apps if name != EVERY_APP and name not in apps]
            if unknown:
                raise ValueError(
                    f"freeze #{number} names an unknown app `{unknown[0]}` "
                    f"(the apps are: {', '.join(sorted(apps))})"
                )
        return freezes

    @model_validator(mode="after")
    def _sandbox_urls_for_the_sandbox_only(self) -> AppsFile:
        for name, provider in self.providers.items():
            if name != "sandbox" and provider.base_url.startswith("sandbox:"):
                raise ValueError(
                    f"providers.{name}.base_url: sandbox:// is for the sandbox provider only"
                )
        return self


def _name_problems(apps: Mapping[str, Any]) -> list[str]:
    """App names one cannot type after /deploy: said per app, with the rest of the file's."""
    problems = []
    for name in apps:
        if name.lower() in VERBS:
            problems.append(
                f"apps.{name}: `{name}` is a /deploy command; give the app another name"
            )
        elif not is_app_name(name):
            problems.append(
                f'apps."{name}": an app name is typed after /deploy: letters, digits, '
                "and . _ - only, starting with a letter or digit, at most 100"
            )
    return problems


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
    """Load and validate; raise ConfigError with a line per problem: file, key and problem."""
    settings = settings or Settings()
    path = settings.deploybot_config
    apps_file = parse_apps_file(path)
    env = _environment(environ)
    keys: dict[str, SecretStr] = {}
    missing = []
    for name, app in apps_file.apps.items():
        if app.provider == "sandbox":
            continue
        key = env.get(app.key_env or "")
        if not key:
            missing.append(
                f"{path}: apps.{name}: the {app.provider} key is not set "
                f"(set the environment variable {app.key_env})"
            )
        keys[name] = SecretStr(key or "")
    if missing:
        raise ConfigError("\n".join(missing))
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
    apps = raw.get("apps")
    problems = _name_problems(apps if isinstance(apps, dict) else {})
    try:
        apps_file = AppsFile.model_validate(raw)
    except ValidationError as exc:
        problems += [in_words(error) for error in exc.errors()]
    if problems:
        raise ConfigError("\n".join(f"{path}: {problem}" for problem in problems))
    return apps_file


def _environment(environ: Mapping[str, str] | None) -> dict[str, str]:
    if environ is not None:
        return dict(environ)
    from_file = {k: v for k, v in dotenv_values(".env").items() if v is not None}
    return from_file | dict(os.environ)
