"""The Home tab: opened (`app_home_opened`), and its buttons."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.door import Door
from bot.listeners.after_ack import carry_on
from bot.render.home_view import HOME_ACTIONS

log = logging.getLogger(__name__)


async def opened(door: Door, event: dict[str, Any]) -> None:
    user = event.get("user")
    if event.get("tab") != "home" or not isinstance(user, str):
        return  # the Messages tab: nothing to draw
    try:
        await door.home_opened(user)
    except Exception:
        log.exception("drawing the Home tab of %s", user)


async def clicked(door: Door, ack: AsyncAck, body: dict[str, Any]) -> asyncio.Task[None]:
    """The ack; then the click, carried out in the task returned."""
    await ack()
    return carry_on(door, body, None, lambda: _clicked(door, body))


async def _clicked(door: Door, body: dict[str, Any]) -> None:
    user = (body.get("user") or {}).get("id")
    action = (body.get("actions") or [{}])[0]
    action_id, value = action.get("action_id"), action.get("value")
    if not (isinstance(user, str) and isinstance(action_id, str) and isinstance(value, str)):
        return  # no one to answer: a Home tab click always names its person
    try:
        await door.home_click(action_id, value, user)
    except Exception:
        log.exception("a Home tab click (%s) by %s", action_id, user)


def register(app: AsyncApp, door: Door) -> None:
    async def on_opened(body: dict[str, Any], event: dict[str, Any]) -> None:
        # Bolt acknowledges an event when its listener returns: the tab is drawn after that.
        carry_on(door, body, None, lambda: opened(door, event))

    async def on_click(ack: AsyncAck, body: dict[str, Any]) -> None:
        await clicked(door, ack, body)

    app.event("app_home_opened")(on_opened)
    for action_id in HOME_ACTIONS:
        app.action({"action_id": action_id})(on_click)
