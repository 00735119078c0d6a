"""Who may deploy an app with approval: its approvers too, and never its only approver."""

from __future__ import annotations

import pytest

from tests.conftest import World, eventually

CHANNEL = "C0DEPLOYS"


@pytest.fixture
def apps_extra() -> str:
    return """
[apps.solo]
provider = "nometria"
project_id = "proj_solo"
approval = true
approvers = ["U0LEAD"]
"""


async def test_the_only_approver_is_refused_up_front_with_what_to_change(world: World) -> None:
    """Their deploy could never be approved: they hear so at once, and nothing is posted."""
    answer = await world.ask("solo", user="U0LEAD")
    assert "You are the only approver of `solo`" in answer
    assert "add a second approver to `solo`'s `approvers`" in answer
    assert "allow_self_approval = true" in answer
    assert world.slack.root_messages(CHANNEL) == []
    assert world.nometria.requests == []
    [entry] = await world.runtime.store.audit.recent("solo")
    assert (entry.user, entry.action, entry.outcome) == ("U0LEAD", "deploy", "refused")

    await world.driver.command("solo", user="U0DEV", channel=CHANNEL)  # anyone else may ask
    [root] = await eventually(lambda: world.slack.root_messages(CHANNEL))
    assert "waiting for approval by <@U0LEAD>" in str(root.blocks)


async def test_approvers_may_deploy_apps_whose_deployers_leave_them_out(world: World) -> None:
    """The rule: an app's deployers and its approvers may deploy it; `apps` and the refusal
    say so, and `apps` names the approvers an app without approvals has (as a publish or a
    rollback refused names them)."""
    listed = await world.ask("apps", channel=CHANNEL)
    assert (
        "*vault* (nometria): no approval; approvers <@U0LEAD> (rollbacks, publishing, deploying "
        "through a lock or freeze); deployers <@U0DEV> (and its approvers)"
    ) in listed
    refused = await world.ask("vault", user="U0OTHER")
    assert "Deployers: <@U0DEV>, and its approvers <@U0LEAD>." in refused
    await world.driver.command("vault", user="U0LEAD", channel=CHANNEL)  # not a deployer
    await eventually(lambda: world.nometria.requests_to("POST", "/v1/deployments"))
