"""Listener handlers are plain functions: called here without a Bolt app or HTTP."""

from __future__ import annotations

import asyncio
from typing import Any, cast

from slack_sdk.web.async_client import AsyncWebClient

from bot.commands.usage import UsageError
from bot.door import Door
from bot.listeners.actions.buttons import button
from bot.listeners.after_ack import STARTING_AT_ONCE
from bot.listeners.commands.deploy import deploy
from tests.conftest import eventually


class Said:
    """Records ack() and respond() calls."""

    def __init__(self) -> None:
        self.acks: list[dict[str, Any]] = []
        self.responses: list[dict[str, Any]] = []

    async def ack(self, **kwargs: Any) -> None:
        self.acks.append(kwargs)

    async def respond(self, **kwargs: Any) -> None:
        self.responses.append(kwargs)


class StubDoor:
    """Knows one app, and records what reaches it."""

    apps = ("web",)

    def __init__(self) -> None:
        self.commands: list[Any] = []

    def working(self) -> None:
        pass

    async def first_time(self, key: str) -> bool:
        return True

    def app(self, name: str) -> None:
        if name != "web":
            raise UsageError(f"There is no app called `{name}`.", "/deploy <app>")

    async def command(self, request: Any, actor: Any) -> None:
        self.commands.append((request, actor))


async def test_a_usage_error_is_the_ack_and_reaches_no_use_case() -> None:
    """An unknown app is answered in the ack itself; the door never runs the command."""
    said, door = Said(), StubDoor()
    command = {"text": "wbe", "user_id": "U0DEV", "channel_id": "C0DEPLOYS"}
    await deploy(cast(Door, door), said.ack, command, said.respond)  # type: ignore[arg-type]
    assert "There is no app called `wbe`" in said.acks[0]["text"]
    assert door.commands == []


async def test_a_command_is_acked_then_carried_out_as_who_asked_where() -> None:
    """The listener returns with the empty ack said and nothing else done (Bolt answers Slack
    then); the parsed request then reaches the door with who and where."""
    said, door = Said(), StubDoor()
    command = {"text": "web main", "user_id": "U0DEV", "channel_id": "C0DEPLOYS"}
    work = await deploy(cast(Door, door), said.ack, command, said.respond)  # type: ignore[arg-type]
    assert said.acks == [{}]
    assert door.commands == []
    assert work is not None
    await work
    [(request, actor)] = door.commands
    assert (request.app, request.ref) == ("web", "main")
    assert (actor.user, actor.channel) == ("U0DEV", "C0DEPLOYS")


async def test_a_click_without_its_details_changes_nothing_and_says_so() -> None:
    """No user or channel in the body: the person is told, the door is not asked."""
    said = Said()
    body = {"actions": [{"action_id": "deploybot_approve", "value": "1"}]}
    work = await button(
        cast(Door, StubDoor()),
        said.ack,  # type: ignore[arg-type]
        body,
        said.respond,  # type: ignore[arg-type]
        cast(AsyncWebClient, None),
    )
    assert said.acks == [{}]
    await work
    assert "missing its details" in said.responses[0]["text"]


class SlowCheckDoor(StubDoor):
    """Its repeat check waits until let go, counting how many wait at once."""

    def __init__(self) -> None:
        super().__init__()
        self.checking = 0
        self.most_at_once = 0
        self.go = asyncio.Event()

    async def first_time(self, key: str) -> bool:
        self.checking += 1
        self.most_at_once = max(self.most_at_once, self.checking)
        await self.go.wait()
        self.checking -= 1
        return True


async def test_work_after_many_acks_starts_a_few_at_a_time() -> None:
    """Twenty commands acked at once: their repeat checks run a few at a time, not all twenty
    in one turn of the loop ahead of the next acks; every command is still carried out."""
    said, door = Said(), SlowCheckDoor()
    works = [
        await deploy(
            cast(Door, door),
            said.ack,  # type: ignore[arg-type]
            {"text": "web", "user_id": "U0DEV", "channel_id": "C0DEPLOYS", "trigger_id": f"t{i}"},
            said.respond,  # type: ignore[arg-type]
        )
        for i in range(20)
    ]
    assert len(said.acks) == 20
    await eventually(lambda: door.checking == STARTING_AT_ONCE)
    door.go.set()
    await asyncio.gather(*(w for w in works if w is not None))
    assert door.most_at_once == STARTING_AT_ONCE
    assert len(door.commands) == 20
