"""What `serve` and `check` need before they start: every missing or wrong setting in one
pass (the environment, the apps file, the provider keys, Slack's tokens), each with its fix."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from bot import config as configuration
from bot.config import Config, ConfigError
from bot.config.settings import Settings
from bot.config.words import env_in_words

_APP_PAGE = "api.slack.com/apps → your app"
BOT_TOKEN = (
    f"the Bot User OAuth Token (xoxb-...), on {_APP_PAGE} → OAuth & Permissions once the app is "
    "installed to the workspace"
)
SIGNING_SECRET = (
    f"the Signing Secret, on {_APP_PAGE} → Basic Information → App Credentials (or set "
    "SLACK_APP_TOKEN to take Slack's requests over Socket Mode instead)"
)
APP_TOKEN = (
    f"an app-level token (xapp-...) with the connections:write scope, on {_APP_PAGE} → Basic "
    "Information → App-Level Tokens"
)
_TOKEN_KINDS = {
    "xoxp-": "a user token (xoxp-...)",
    "xapp-": "an app-level token (xapp-...), which goes in SLACK_APP_TOKEN",
    "xoxb-": "a bot token (xoxb-...), which goes in SLACK_BOT_TOKEN",
}


@dataclass
class Setup:
    """The settings (bad variables set back to their defaults, to look further), the loaded
    configuration if it loads, and what is wrong: `problems` in the environment and the apps
    file, `slack` in Slack's tokens."""

    settings: Settings
    config: Config | None = None
    problems: list[str] = field(default_factory=list)
    slack: list[str] = field(default_factory=list)

    @property
    def every_problem(self) -> list[str]:
        return self.problems + self.slack


def read(apps_file: Path | None = None) -> Setup:
    """Everything that can be known without asking anyone over the network."""
    setup = _settings({} if apps_file is None else {"deploybot_config": apps_file})
    try:
        setup.config = configuration.load(setup.settings)
    except ConfigError as exc:
        setup.problems += str(exc).splitlines()
    setup.slack = slack_problems(setup.settings)
    if setup.problems:  # a configuration read from fallback settings is not the one asked for
        setup.config = None
    return setup


def _settings(given: dict[str, Any]) -> Setup:
    try:
        return Setup(Settings(**given))
    except ValidationError as exc:
        problems = [env_in_words(error) for error in exc.errors()]
        defaults = {
            str(error["loc"][0]): Settings.model_fields[str(error["loc"][0])].default
            for error in exc.errors()
        }
        return Setup(Settings(**(defaults | given)), problems=problems)


def slack_problems(settings: Settings) -> list[str]:
    """Slack's tokens: the ones `serve` needs, each in its own variable."""
    problems = []
    s = settings
    bot, app, secret = (
        None if value is None else value.get_secret_value()
        for value in (s.slack_bot_token, s.slack_app_token, s.slack_signing_secret)
    )
    if not bot:
        problems.append(f"environment: SLACK_BOT_TOKEN is not set: set it to {BOT_TOKEN}")
    elif kind := _wrong_kind(bot, "xoxb-"):
        problems.append(f"environment: SLACK_BOT_TOKEN holds {kind}: set it to {BOT_TOKEN}")
    if app is not None and (kind := _wrong_kind(app, "xapp-")):
        problems.append(
            f"environment: SLACK_APP_TOKEN holds {kind}: set it to {APP_TOKEN} (unset it to "
            "take Slack's requests over HTTP)"
        )
    if app is None and not secret:
        problems.append(f"environment: SLACK_SIGNING_SECRET is not set: set it to {SIGNING_SECRET}")
    return problems


def _wrong_kind(token: str, prefix: str) -> str | None:
    """What the token is instead, if not what its variable takes (said by its prefix only)."""
    if token.startswith(prefix):
        return None
    others = (words for start, words in _TOKEN_KINDS.items() if token.startswith(start))
    return next(others, "something that is not a Slack token" if token else "nothing")
