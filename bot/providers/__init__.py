"""Provider adapters and the registry that builds one for an app."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import parse_qs, urlsplit

import httpx

from bot.config import Config, ConfigError
from bot.config.apps import AppConfig
from bot.providers.base import Provider
from bot.providers.nometria import Nometria
from bot.providers.owned import owned
from bot.providers.sandbox import DEFAULT_STEP, Sandbox
from bot.providers.stormkit import Stormkit

Factory = Callable[[AppConfig, Config, httpx.AsyncClient], Provider]


def _nometria(app: AppConfig, config: Config, client: httpx.AsyncClient) -> Provider:
    return Nometria(
        client,
        base_url=config.base_url("nometria"),
        api_key=config.api_keys[app.name].get_secret_value(),
        project_id=app.project_id or "",
    )


def _stormkit(app: AppConfig, config: Config, client: httpx.AsyncClient) -> Provider:
    return Stormkit(
        client,
        base_url=config.base_url("stormkit"),
        api_key=config.api_keys[app.name].get_secret_value(),
        env_id=app.env_id,
        default_branch=app.default_branch,
    )


def _sandbox(app: AppConfig, config: Config, client: httpx.AsyncClient) -> Provider:
    """Built once per app at start-up, so its deployments last as long as the process."""
    return Sandbox(
        app.name,
        step=sandbox_step(config.base_url("sandbox")),
        default_branch=app.default_branch or "main",
    )


def sandbox_step(base_url: str) -> float:
    """Seconds a sandbox phase lasts, from `sandbox://local?step=0.5` (default 2).

    The base URL is the one setting a provider has in the apps file, so it carries this too.
    """
    raw = parse_qs(urlsplit(base_url).query).get("step", [str(DEFAULT_STEP)])[-1]
    try:
        step = float(raw)
    except ValueError:
        step = 0.0
    if not 0 < step <= 3600:
        raise ConfigError(
            f"providers.sandbox.base_url: step must be seconds, above 0 and at most 3600, "
            f"not {raw!r}"
        )
    return step


REGISTRY: dict[str, Factory] = {
    "nometria": _nometria,
    "stormkit": _stormkit,
    "sandbox": _sandbox,
}


def build_all(config: Config, client: httpx.AsyncClient) -> dict[str, Provider]:
    """One bound adapter per app, keyed by app name; each refuses other apps' deployment IDs."""
    return owned(
        {
            name: REGISTRY[app.provider](app, config, client)
            for name, app in config.apps.items()
            if app.provider in REGISTRY
        }
    )
