"""`/deploy apps` and the Home tab offer a deploy only where it would work for the person
asking (the door's own rule, asked ahead), and say why the others would be refused: the sole
approver of an approval app, a locked app, a frozen one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.conftest import World, eventually

CHANNEL = "C0DEPLOYS"
NOW = datetime.now(UTC).replace(microsecond=0)
CANNOT = "*Apps here you cannot deploy now*, and why"


@pytest.fixture
def settings_extra() -> dict[str, Any]:
    return {"deploybot_home_refresh": 0.05}


@pytest.fixture
def apps_extra() -> str:
    return f"""
[apps.solo]
provider = "stormkit"
env_id = "305"
approval = true
approvers = ["U0LEAD"]
channels = ["C0DEPLOYS"]

[apps.site]
provider = "stormkit"
env_id = "305"
approvers = ["U0LEAD"]
channels = ["C0DEPLOYS"]

[apps.api]
provider = "nometria"
project_id = "proj_api"
approvers = ["U0LEAD"]
channels = ["C0DEPLOYS"]

[apps.cold]
provider = "nometria"
project_id = "proj_cold"
approvers = ["U0LEAD"]
channels = ["C0DEPLOYS"]

[[freezes]]
apps = ["cold"]
start = "{(NOW - timedelta(hours=1)).isoformat()}"
end = "{(NOW + timedelta(hours=2)).isoformat()}"
reason = "Quarter close"
"""


def _entry(section: str, app: str) -> str:
    """An app's lines in a part of `/deploy apps`: its bullet and the indented lines below."""
    lines = section.splitlines()
    [start] = [i for i, line in enumerate(lines) if line.startswith(f"• *{app}*")]
    end = next((i for i in range(start + 1, len(lines)) if not lines[i].startswith(" ")), None)
    return "\n".join(lines[start:end])


def _home_buttons(world: World, user: str, app: str) -> list[str]:
    view = world.slack.home_views[user]
    return [
        element["action_id"]
        for block in view["blocks"]
        if block.get("block_id") == f"home:{app}"
        for element in block["elements"]
    ]


async def test_apps_lists_what_you_can_deploy_then_the_rest_with_why(world: World) -> None:
    await world.aloud("lock api maintenance <window>", user="U0LEAD")

    told = await world.ask("apps", user="U0LEAD")

    can, cannot = told.split(CANNOT)
    assert "*Apps you can deploy here*" in can
    for app in ("site", "web", "vault"):
        assert f"• *{app}*" in can
    for app in ("solo", "api", "cold"):
        assert f"*{app}*" not in can
    assert "You are the only approver of `solo`" in _entry(cannot, "solo")
    api = _entry(cannot, "api")
    assert "`api` is locked by you: maintenance &lt;window&gt;. You can `/deploy unlock api`" in api
    assert 'You may deploy anyway, saying why: `/deploy api --force "reason"`' in api
    assert "`cold` is frozen until" in _entry(cannot, "cold")
    assert "Quarter close" in _entry(cannot, "cold")

    theirs = await world.ask("apps", user="U0DEV")  # solo is not U0DEV's to approve
    can, cannot = theirs.split(CANNOT)
    assert "• *solo*" in can
    assert "*solo*" not in cannot
    assert world.nometria.requests_to("POST") == []
    assert world.stormkit.requests_to("POST") == []


async def test_the_home_tab_offers_deploy_only_where_it_would_work(world: World) -> None:
    await world.aloud("lock api maintenance", user="U0LEAD")
    await world.driver.home_opened("U0LEAD")
    tab = await eventually(lambda: world.slack.home_text("U0LEAD"))

    assert "deploybot_home_deploy" in _home_buttons(world, "U0LEAD", "site")
    for app in ("solo", "api", "cold"):
        assert "deploybot_home_deploy" not in _home_buttons(world, "U0LEAD", app)
    assert "No Deploy button: You are the only approver of `solo`" in tab
    assert "No Deploy button: `api` is locked by you: maintenance." in tab
    assert "No Deploy button: `cold` is frozen until" in tab
    # Rollback and Unlock stay where they work: the lock holds deploys only.
    assert "deploybot_home_unlock" in _home_buttons(world, "U0LEAD", "api")

    await world.driver.home_opened("U0DEV")
    await eventually(lambda: world.slack.home_text("U0DEV"))
    assert "deploybot_home_deploy" in _home_buttons(world, "U0DEV", "solo")
