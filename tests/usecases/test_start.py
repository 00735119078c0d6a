"""One way to start a deploy (`usecases/start.py`): a fresh `/deploy` and a deploy leaving the
line trigger, prompt, say and audit alike, through every path of the start."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from bot.render import blocks
from tests.conftest import World, eventually

CHANNEL = "C0DEPLOYS"
FREEZE_AT = datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=20)


@pytest.fixture
def apps_extra() -> str:
    """`docs` freezes 20 minutes from now: a test moves the bot's clock into it."""
    return f"""
[[freezes]]
apps = ["docs"]
start = "{FREEZE_AT.isoformat()}"
end = "{(FREEZE_AT + timedelta(hours=3)).isoformat()}"
reason = "Quarter close"
"""


def _roots(world: World, app: str) -> list[str]:
    return [m.ts for m in world.slack.root_messages(CHANNEL) if f"Deploy {app}" in m.text]


def _thread(world: World, ts: str) -> str:
    return "\n".join(world.slack.texts_in_thread(CHANNEL, ts))


async def _deploy(world: World, text: str, *, user: str = "U0DEV", count: int) -> str:
    app = text.split(maxsplit=1)[0]
    await world.driver.command(text, user=user, channel=CHANNEL)
    roots = await eventually(lambda: _roots(world, app)[count - 1 :])
    return str(roots[0])


async def _prompt(world: World, root: str) -> tuple[str, str]:
    """The approval prompt in a thread: its ts and its text."""

    def find() -> tuple[str, str] | None:
        for message in world.slack.thread(CHANNEL, root):
            if blocks.APPROVE in str(message.blocks):
                return message.ts, message.text
        return None

    found: tuple[str, str] = await eventually(find)
    return found


async def _ticks_until(world: World, check: Callable[[], bool], most: int = 30) -> None:
    for _ in range(most):
        if check():
            return
        await world.tick()
    assert check()


def _asking(prompt: str) -> list[str]:
    """A prompt's lines but what is live and would go live (they change as deploys go live)."""
    return [line for line in prompt.splitlines() if not line.startswith(("*Live", "*Would"))]


async def test_a_queued_deploy_asks_the_approvers_in_the_words_of_a_fresh_one(
    world: World,
) -> None:
    """Nometria approval app: the second deploy waits in line; when the first ends, it posts
    the same prompt a fresh deploy posts: the approvers named, the default branch (never HEAD)."""
    first = await _deploy(world, "shop", count=1)
    first_ts, fresh = await _prompt(world, first)
    second = await _deploy(world, "shop", count=2)
    await eventually(lambda: "waits its turn (number 1 in line)" in _thread(world, second))
    assert world.nometria.requests_to("POST") == []

    await world.driver.click(blocks.APPROVE, message_ts=first_ts, user="U0LEAD", channel=CHANNEL)
    await eventually(lambda: world.nometria.requests_to("POST", "/v1/deployments"))
    await _ticks_until(world, lambda: "is live" in _thread(world, first))
    _, queued = await _prompt(world, second)

    # The same words, but for what is live: the first deploy went live meanwhile.
    assert _asking(queued) == _asking(fresh)
    assert "*Live now:* nothing yet" in fresh
    assert "*Live now:* `a1b2c3d` on `main` “feat: add payment flow”" in queued
    assert "<@U0DEV> asks to deploy *shop* (default branch)." in queued
    assert "<@U0LEAD>, <@U0LEAD2>: approve it?" in queued
    assert "HEAD" not in _thread(world, second)
    root = world.slack.message(CHANNEL, second)
    assert root is not None
    assert "waiting for approval by <@U0LEAD>, <@U0LEAD2>" in root.all_text
    assert len(world.nometria.requests_to("POST", "/v1/deployments")) == 1  # nothing more yet
    entries = await world.runtime.store.audit.recent("shop", limit=10)
    details = [e.detail for e in entries if (e.action, e.outcome) == ("deploy", "ok")]
    assert details == ["its turn; waiting for approval", "waiting for approval"]


async def test_a_queued_approval_is_approved_like_a_fresh_one(world: World) -> None:
    """The prompt a queued deploy posts works: its Approve triggers it, once."""
    first = await _deploy(world, "shop", count=1)
    first_ts, _ = await _prompt(world, first)
    second = await _deploy(world, "shop 0badc0ffee", count=2)
    await eventually(lambda: "waits its turn" in _thread(world, second))
    await world.driver.click(blocks.APPROVE, message_ts=first_ts, user="U0LEAD", channel=CHANNEL)
    await eventually(lambda: world.nometria.requests_to("POST", "/v1/deployments"))
    await _ticks_until(world, lambda: "is live" in _thread(world, first))
    second_ts, text = await _prompt(world, second)
    assert "(`0badc0ffee`)" in text

    await world.driver.click(blocks.APPROVE, message_ts=second_ts, user="U0LEAD2", channel=CHANNEL)
    calls = await eventually(lambda: world.nometria.requests_to("POST", "/v1/deployments")[1:])
    assert calls[0].json["commit_sha"] == "0badc0ffee"
    await eventually(lambda: "Started" in _thread(world, second))


async def test_a_queued_deploy_names_its_overrides_like_a_fresh_one(world: World) -> None:
    """The keys (never the values) are said in its thread and audited when its turn comes."""
    first = await _deploy(world, "web", count=1)
    await eventually(lambda: "Started" in _thread(world, first))
    second = await _deploy(world, "web a1b2c3d FEATURE=on API_TOKEN=s3cr3t-value", count=2)
    await eventually(lambda: "waits its turn" in _thread(world, second))

    await _ticks_until(world, lambda: "Started" in _thread(world, second))
    calls = world.nometria.requests_to("POST", "/v1/deployments")
    assert calls[1].json["env_vars"] == {"FEATURE": "on", "API_TOKEN": "s3cr3t-value"}
    said = await eventually(lambda: "Overridden for this deploy" in _thread(world, second))
    assert said
    assert "`FEATURE`, `API_TOKEN` (values are not shown)" in _thread(world, second)
    assert "s3cr3t" not in _thread(world, second)
    entries = await world.runtime.store.audit.recent("web", limit=10)
    details = [e.detail for e in entries if (e.action, e.outcome) == ("deploy", "ok")]
    assert details[0] == "its turn; overrides: FEATURE, API_TOKEN"


async def test_a_queued_trigger_the_provider_refuses_ends_it_and_the_next_goes(
    world: World,
) -> None:
    """Said in its thread, audited as failed, and the app is free for the next in line."""
    first = await _deploy(world, "web", count=1)
    await eventually(lambda: "Started" in _thread(world, first))
    second = await _deploy(world, "web", count=2)
    third = await _deploy(world, "web", user="U0DEV2", count=3)
    await eventually(lambda: "number 2 in line" in _thread(world, third))
    # Refuse the next trigger only: the one the second deploy sends in its turn.
    world.nometria.inject(
        402,
        {"error": {"code": "payment_required", "message": "plan limit reached"}},
        path_contains="/v1/deployments",
        method="POST",
    )

    await _ticks_until(world, lambda: "Could not start" in _thread(world, second))
    assert "plan limit reached" in _thread(world, second)
    await _ticks_until(world, lambda: "Started" in _thread(world, third))
    entries = await world.runtime.store.audit.recent("web", limit=10)
    failed = [e for e in entries if (e.action, e.outcome) == ("deploy", "failed")]
    assert [e.user for e in failed] == ["U0DEV"]
    assert "plan limit reached" in failed[0].detail


async def test_a_fresh_trigger_the_provider_refuses_leaves_the_app_free(world: World) -> None:
    """The start is recorded before the trigger; a refused trigger ends it, so the next
    `/deploy` starts at once instead of waiting in line behind nothing."""
    world.nometria.inject(
        400, {"error": {"code": "invalid_request", "message": "commit not found"}}, times=1
    )
    first = await _deploy(world, "web deadbeef", count=1)
    await eventually(lambda: "Could not start" in _thread(world, first))
    second = await _deploy(world, "web", count=2)
    await eventually(lambda: "Started" in _thread(world, second))
    assert "in line" not in _thread(world, second)
    entries = await world.runtime.store.audit.recent("web", limit=10)
    assert [e.outcome for e in entries if e.action == "deploy"] == ["ok", "failed"]


async def test_a_queued_deploy_under_a_freeze_without_force_does_not_start(world: World) -> None:
    """A freeze that began while it waited holds it in its turn: refused in its thread, nothing
    triggered."""
    first = await _deploy(world, "docs", count=1)
    await eventually(lambda: "Started" in _thread(world, first))
    second = await _deploy(world, "docs", count=2)
    await eventually(lambda: "waits its turn" in _thread(world, second))
    world.wall.offset = timedelta(minutes=30)  # the freeze holds now

    await _ticks_until(world, lambda: "did not start in its turn" in _thread(world, second))
    assert "`docs` is frozen until" in _thread(world, second)
    assert "Quarter close" in _thread(world, second)
    assert len(world.stormkit.requests_to("POST", "/v1/deploy")) == 1
    entries = await world.runtime.store.audit.recent("docs", limit=10)
    assert next(e.outcome for e in entries if e.action == "deploy") == "refused"
