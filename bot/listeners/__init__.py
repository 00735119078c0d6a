"""Thin Bolt handlers: ack, parse, call the door, answer. One package per surface, each with
register(app, door); the handlers are plain functions that test without an app."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot.door import Door
from bot.listeners import actions, commands, errors, home


def register(app: AsyncApp, door: Door) -> None:
    errors.register(app)
    commands.register(app, door)
    actions.register(app, door)
    home.register(app, door)
