"""Every secret the settings and the apps hold: what the log lines and replies never show."""

from __future__ import annotations

from bot.config import Config


def secrets_of(config: Config) -> list[str]:
    s = config.settings
    values = [key.get_secret_value() for key in config.api_keys.values()]
    for secret in (
        s.slack_bot_token,
        s.slack_signing_secret,
        s.slack_app_token,
        s.deploybot_secret_key,
    ):
        if secret is not None:
            values.append(secret.get_secret_value())
    return values
