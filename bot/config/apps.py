"""The apps file's models (the `[apps.*]` tables, `providers`, `incident_channels`, `freezes`),
each value checked as it is read, and the checks that need more than one table: app names one
can type after /deploy, and the variable each app's provider key is in."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    ValidationInfo,
    field_validator,
    model_validator,
)

from bot.commands.names import is_app_name
from bot.commands.usage import VERBS
from bot.config.freezes import EVERY_APP, Freeze
from bot.config.repo import Repo

PROVIDERS = ("nometria", "stormkit", "sandbox")
DEFAULT_BASE_URLS = {
    "nometria": "https://api.nometria.com",
    "stormkit": "https://api.stormkit.io",
    "sandbox": "sandbox://local",
}
DEFAULT_KEY_ENV = {"nometria": "NOMETRIA_API_KEY", "stormkit": "STORMKIT_API_KEY"}


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

    name: str = Field(default="", exclude=True)  # the table's name, set by load()
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
    # Where deployments started outside Slack (CI, a push, the dashboard) are announced.
    announce: ChannelId | None = None
    repo: Repo | None = None  # the repository: approval prompts link its compare view

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


def name_problems(apps: Mapping[str, Any]) -> list[str]:
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


def app_tables(raw: Mapping[str, Any]) -> dict[str, Any]:
    tables = raw.get("apps")
    return tables if isinstance(tables, dict) else {}


def key_variables(raw: Mapping[str, Any]) -> dict[str, tuple[str, str]]:
    """Each app's provider and the variable its key is in, read from its table even when the
    table is wrong elsewhere: a missing key is said with the rest."""
    needs = {}
    for name, table in app_tables(raw).items():
        provider = table.get("provider") if isinstance(table, dict) else None
        if provider not in DEFAULT_KEY_ENV:
            continue
        variable = table.get("api_key_env") or DEFAULT_KEY_ENV[provider]
        if isinstance(variable, str):
            needs[name] = (provider, variable)
    return needs
