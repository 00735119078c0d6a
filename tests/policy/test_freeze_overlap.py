"""Freezes that overlap are one freeze: every reason is said, and the latest end, wherever a
freeze is shown (a refused deploy, `/deploy apps`, the Home tab, a forced deploy)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.conftest import World, eventually

CHANNEL = "C0DEPLOYS"
START = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
FIRST_END = START + timedelta(hours=3)
LAST_END = START + timedelta(hours=5)
REASONS = "Launch week; Database &lt;move&gt;"


def _at(end: datetime) -> str:
    return f"{end:%a} {end.day} {end:%b} {end:%H:%M} UTC"


@pytest.fixture
def settings_extra() -> dict[str, Any]:
    return {"deploybot_home_refresh": 0.05}


@pytest.fixture
def apps_extra() -> str:
    """Two windows on docs: the later-starting one ends last."""
    return f"""
[[freezes]]
apps = ["docs"]
start = "{START.isoformat()}"
end = "{FIRST_END.isoformat()}"
reason = "Launch week"

[[freezes]]
apps = ["docs", "blog"]
start = "{(START + timedelta(minutes=30)).isoformat()}"
end = "{LAST_END.isoformat()}"
reason = "Database <move>"
"""


async def test_a_refused_deploy_says_every_reason_and_the_latest_end(world: World) -> None:
    said = await world.ask("docs", user="U0DEV")
    assert f"`docs` is frozen until {_at(LAST_END)}: {REASONS}." in said
    assert _at(FIRST_END) not in said
    assert world.stormkit.requests_to("POST") == []
    assert world.slack.root_messages(CHANNEL) == []
    blog = await world.ask("blog", user="U0DEV")  # only the second freeze covers blog
    assert f"`blog` is frozen until {_at(LAST_END)}: Database &lt;move&gt;." in blog
    assert "Launch week" not in blog


async def test_apps_and_the_home_tab_say_every_reason(world: World) -> None:
    said = await world.ask("apps", user="U0DEV")
    docs = said[said.index("*docs*") :].splitlines()
    assert f"    :cold_face: Frozen until {_at(LAST_END)}: {REASONS}" in docs
    # The later window holds now too: it is not listed again as one to come.
    assert not [line for line in docs if ":calendar:" in line]

    await world.driver.home_opened("U0DEV")
    home = await eventually(lambda: world.slack.home_text("U0DEV"))
    assert f":cold_face: Frozen until {_at(LAST_END)}: {REASONS}" in home


async def test_a_forced_deploy_announces_every_reason(world: World) -> None:
    await world.driver.command('docs --force "hotfix"', user="U0LEAD", channel=CHANNEL)
    await eventually(lambda: world.stormkit.requests_to("POST", "/v1/deploy"))
    [announcement, *_] = await eventually(lambda: world.slack.root_messages(CHANNEL))
    assert f"`docs` is frozen until {_at(LAST_END)}: {REASONS}." in announcement.all_text
