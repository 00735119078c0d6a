"""The Home tab of a real team: dozens of apps, a long line, several builds awaiting approval.

Through the real path: `app_home_opened` signed to /slack/events, the fake Slack's views.publish
payload checked as Slack checks it (100 blocks, text lengths)."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from bot.render.home_view import OPEN_SHOWN
from bot.render.slack_limits import VIEW_BLOCKS
from tests.conftest import World, eventually
from tests.fakes.block_kit import view_errors

CHANNEL = "C0DEPLOYS"
MORE = [f"app{i:02d}" for i in range(40)]
GATES = [f"gate{i}" for i in range(4)]
LINE = 15


@pytest.fixture
def apps_extra() -> str:
    plain = "".join(
        f'\n[apps.{name}]\nprovider = "nometria"\nproject_id = "proj_{name}"\n' for name in MORE
    )
    gated = "".join(
        f'\n[apps.{name}]\nprovider = "nometria"\nproject_id = "proj_{name}"\n'
        'approval = true\napprovers = ["U0LEAD"]\n'
        for name in GATES
    )
    return plain + gated


async def _opened(world: World, user: str) -> dict[str, Any]:
    before = world.slack.home_publishes.get(user, 0)
    assert (await world.driver.home_opened(user)).status_code == 200
    await eventually(lambda: world.slack.home_publishes.get(user, 0) > before, within=30)
    return world.slack.home_views[user]


async def _line_of_web(world: World) -> None:
    for _ in range(LINE):
        await world.driver.command("web", user="U0DEV", channel=CHANNEL)
    for gate in GATES:
        await world.driver.command(gate, user="U0DEV", channel=CHANNEL)

    async def all_there() -> bool:
        web = await world.runtime.store.of_app("web")
        gates = [await world.runtime.store.of_app(g) for g in GATES]
        return len(web) == LINE and all(rows and rows[0].pending for rows in gates)

    await eventually(all_there, within=30)


async def test_every_app_is_shown_or_counted_and_the_view_is_valid(world: World) -> None:
    """44 apps with a line of 15 and four approvals: a valid view of at most 100 blocks, where
    each app the approver may see is either shown or named among those left out."""
    await _line_of_web(world)

    view = await _opened(world, "U0LEAD")

    blocks = view["blocks"]
    assert len(blocks) <= VIEW_BLOCKS
    assert view_errors(view) == []
    text = world.slack.home_text("U0LEAD")
    names = ["web", "docs", "shop", "blog", "vault", *MORE, *GATES]
    left = [name for name in names if f"*{name}* (" not in text]
    if left:
        [trailer] = [part for part in text.split("\n") if "more apps did not fit here" in part]
        assert trailer.startswith(f":heavy_plus_sign: {len(left)} more apps")
        assert all(f"*{name}*" in trailer for name in left)
        assert "`/deploy status <app>`" in text
    assert ":eyes: Waits for your approval" in text or "waiting for your approval" in text


async def test_a_long_line_is_summarised_beyond_a_few(world: World) -> None:
    """Web's 15 open deploys: the first few one by one, then how many more and where."""
    await _line_of_web(world)

    await _opened(world, "U0DEV")

    text = world.slack.home_text("U0DEV")
    more = LINE - OPEN_SHOWN
    assert f"…and {more} more waiting: `/deploy history web` lists them." in text
    assert text.count("thread>") + text.count("thread in <#") <= OPEN_SHOWN * (1 + len(GATES))


async def test_a_view_slack_refuses_leaves_the_last_one_and_says_why_in_the_log(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    before = await _opened(world, "U0DEV")
    world.slack.fail("views.publish", "invalid_arguments")

    with caplog.at_level(logging.WARNING, logger="bot.usecases.home"):
        await world.driver.home_opened("U0DEV")
        await eventually(lambda: any("invalid_arguments" in r.getMessage() for r in caplog.records))

    assert world.slack.home_views["U0DEV"] == before
    [said] = [r for r in caplog.records if "invalid_arguments" in r.getMessage()]
    assert "U0DEV" in said.getMessage()
    assert said.exc_info is None  # Slack's answer, not a traceback
