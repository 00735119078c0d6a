"""Provider adapters and the registry that builds one for an app."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from bot.config import AppConfig, Config
from bot.providers.base import Provider
from bot.providers.nometria import Nometria
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


REGISTRY: dict[str, Factory] = {"nometria": _nometria, "stormkit": _stormkit}


def build_all(config: Config, client: httpx.AsyncClient) -> dict[str, Provider]:
    """One bound adapter per app, keyed by app name."""
    return {
        name: REGISTRY[app.provider](app, config, client)
        for name, app in config.apps.items()
        if app.provider in REGISTRY
    }
