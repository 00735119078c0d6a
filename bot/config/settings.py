"""The bot's settings, read from the environment (and a `.env` file): Slack's tokens, where the
apps file and the database are, and how the bot paces, polls and retries. Also the environment
the apps file's provider keys are read from."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated

from dotenv import dotenv_values
from pydantic import AfterValidator, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot import sealed
from bot.config import addresses

POLL_LEASE_INTERVALS = 2  # a poll lease lasts this many poll intervals


def _fernet_keys(value: SecretStr | None) -> SecretStr | None:
    if value is None or not value.get_secret_value().strip():
        return None
    sealed.check_keys(value.get_secret_value())
    return value


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
    # GET /metrics listens here, not on $PORT; "" or "off": not served (README, "Security").
    deploybot_metrics_addr: Annotated[str, AfterValidator(addresses.host_port)] = "127.0.0.1:9464"
    # Seals KEY=VALUE override values while a deploy waits (README, "Security").
    deploybot_secret_key: Annotated[SecretStr | None, AfterValidator(_fernet_keys)] = None
    # Operations: how the bot behaves under load and faults (README, "Operations").
    deploybot_channel_pace: float = Field(default=1.0, ge=0)  # seconds a post, per channel
    deploybot_channel_burst: int = Field(default=3, ge=1)  # posts back to back after a lull
    deploybot_edits_per_minute: float = Field(default=50.0, ge=0)  # chat.update, Tier 3; 0: any
    deploybot_lease_seconds: float | None = Field(default=None, gt=0)
    deploybot_slack_retry_cap: float = Field(default=60.0, gt=0)  # longest back-off of a message
    deploybot_outage_notice_after: float = Field(default=120.0, ge=0)
    deploybot_max_duration: float = Field(default=3600.0, gt=0)  # from the trigger
    deploybot_approval_ttl: float = Field(default=86400.0, gt=0)  # an undecided approval expires
    deploybot_poll_concurrency: int = Field(default=50, ge=1, le=1000)
    deploybot_failure_dms: bool = True  # the requester of a failed deployment gets a DM
    deploybot_home_refresh: float = Field(default=10.0, ge=0)  # seconds between Home refreshes
    deploybot_home_viewers_for: float = Field(default=1800.0, gt=0)  # redrawn this long after
    deploybot_home_publishes_per_minute: float = Field(default=100.0, gt=0)  # views.publish
    # Seconds between two looks at each announcing app's deployments; unset: the poll interval.
    deploybot_watch_interval: float | None = Field(default=None, gt=0)

    @property
    def metrics_address(self) -> tuple[str, int] | None:
        addr = self.deploybot_metrics_addr
        return addresses.split(addr) if addr else None

    @property
    def poll_lease_seconds(self) -> float:
        """How long a replica holds the deployments it polls, renewed at each tick's start (and
        at the end of a long one).

        Two intervals: a replica that dies has its deployments taken over by the next tick of
        another one after that, so within three intervals of its last renewal.
        """
        return POLL_LEASE_INTERVALS * self.deploybot_poll_interval

    @property
    def watch_interval(self) -> float:
        return self.deploybot_watch_interval or self.deploybot_poll_interval

    @property
    def claim_seconds(self) -> float:
        """How long a replica holds a message it is sending and its channel, renewed by a
        heartbeat four times a claim while it lives: two poll intervals, like a deployment, so
        a crashed replica's messages are taken within three."""
        return self.deploybot_lease_seconds or POLL_LEASE_INTERVALS * self.deploybot_poll_interval


def environment(environ: Mapping[str, str] | None) -> dict[str, str]:
    """Where the provider keys are read: `environ` when given, else `.env` under the process's
    own environment."""
    if environ is not None:
        return dict(environ)
    from_file = {k: v for k, v in dotenv_values(".env").items() if v is not None}
    return from_file | dict(os.environ)
