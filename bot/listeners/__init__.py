"""Thin Bolt handlers, one module per surface; each has register()."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot.listeners import actions, commands, errors
from bot.service import Service


def register(app: AsyncApp, service: Service) -> None:
    errors.register(app)
    commands.register(app, service)
    actions.register(app, service)
