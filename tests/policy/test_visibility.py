"""Who may see what, and from where: an app's views follow its people (the Home tab's rule)
and its `channels`; every verb asked of it from a channel follows its `channels`, as `/deploy`
does; a Home-tab Deploy posts only in a channel the apps file names."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import World, eventually
from tests.usecases.test_rollback import _confirm, _confirmation

CHANNEL = "C0DEPLOYS"  # vault's only channel
ELSEWHERE = "C0RANDOM"
INCIDENT = "C0INCIDENT"
SECRET = "moving the ledger to new disks"


async def _locked(world: World) -> None:
    said = await world.aloud(f"lock vault {SECRET}", user="U0DEV", channel=CHANNEL)
    assert SECRET in said


async def _last_audit(world: World, app: str) -> Any:
    [entry, *_] = await eventually(lambda: world.runtime.store.audit.recent(app))
    return entry


@pytest.mark.parametrize("verb", ["status", "history", "stats"])
async def test_in_an_incident_channel_whoever_may_roll_back_sees_what_they_would_roll_back(
    world: World, verb: str
) -> None:
    """Anyone in an incident channel may roll vault back, so anyone there sees its status,
    history and figures (the on-call engineer does not have to leave the incident to look)."""
    world.nometria.seed_history("proj_vault", n=2)

    answer = await world.ask(f"{verb} vault", user="U0OTHER", channel=INCIDENT)

    assert "Only those who may" not in answer
    assert "shown there only" not in answer
    assert "vault" in answer
    elsewhere = await world.ask(f"{verb} vault", user="U0OTHER", channel=ELSEWHERE)
    assert "Only those who may deploy or approve `vault` see its deployments." in elsewhere


@pytest.mark.parametrize("verb", ["status", "history", "stats"])
async def test_a_restricted_apps_views_are_refused_to_others(world: World, verb: str) -> None:
    """vault is for its deployers and approvers: anyone else hears who may, and nothing of
    its deployments, lock or audit trail."""
    [live, *_] = world.nometria.seed_history("proj_vault", n=2)
    await _locked(world)

    answer = await world.ask(f"{verb} vault", user="U0OTHER", channel=CHANNEL)

    assert "Only those who may deploy or approve `vault` see its deployments." in answer
    assert "Deployers: <@U0DEV>, and its approvers <@U0LEAD>." in answer
    assert live not in answer
    assert SECRET not in answer
    assert world.nometria.requests_to("GET") == []
    entry = await _last_audit(world, "vault")
    assert (entry.user, entry.action, entry.outcome) == ("U0OTHER", verb, "refused")

    shown = await world.ask(f"{verb} vault", user="U0DEV", channel=CHANNEL)
    assert "vault" in shown
    assert "Only those who may" not in shown


@pytest.mark.parametrize("verb", ["status", "history", "stats"])
async def test_a_restricted_apps_views_follow_its_channels(world: World, verb: str) -> None:
    """Even its deployer sees vault only in its channel, and is told where (and that the Home
    tab shows it)."""
    world.nometria.seed_history("proj_vault", n=2)

    answer = await world.ask(f"{verb} vault", user="U0DEV", channel=ELSEWHERE)

    assert f"Type `/deploy {verb} vault` in <#{CHANNEL}>: `vault`'s deployments are" in answer
    assert "shown there only (your Home tab shows them too)" in answer
    assert world.nometria.requests_to("GET") == []


@pytest.mark.parametrize(
    "command",
    ["lock vault why", "unlock vault", "stop vault dep_1", "restart vault dep_1",
     "logs vault dep_1", "publish vault dep_1"],
)  # fmt: skip
async def test_every_verb_follows_the_apps_channels(world: World, command: str) -> None:
    """Asked from another channel, even by its approver, a verb changes nothing, sends
    nothing and says where it may be asked."""
    if command.startswith("unlock"):
        await _locked(world)
    before = (
        len(world.slack.root_messages(ELSEWHERE)),
        await world.runtime.store.locks.get("vault"),
    )

    answer = await world.ask(command, user="U0LEAD", channel=ELSEWHERE)

    assert f"Ask in <#{CHANNEL}>: `vault` is operated from there only, not here." in answer
    assert world.nometria.requests == []
    assert world.slack.root_messages(ELSEWHERE)[before[0] :] == []
    assert await world.runtime.store.locks.get("vault") == before[1]
    entry = await _last_audit(world, "vault")
    assert (entry.user, entry.outcome) == ("U0LEAD", "refused")


async def test_an_unlock_is_heard_where_a_rollback_locked_it(world: World) -> None:
    """A rollback in an incident channel locks vault there: it may be unlocked there too."""
    world.nometria.seed_history("proj_vault", n=2)
    ts, _ = await _confirmation(world, "rollback vault", user="U0LEAD", channel=INCIDENT)
    await _confirm(world, ts, user="U0LEAD", channel=INCIDENT)
    lock = await eventually(lambda: world.runtime.store.locks.get("vault"))
    assert lock.channel == INCIDENT
    await eventually(lambda: world.slack.root_messages(INCIDENT))  # the rollback's own root
    await world.runtime.outbox.idle()

    said = await world.aloud("unlock vault", user="U0LEAD", channel=INCIDENT)

    assert "*vault* is unlocked by <@U0LEAD>" in said
    assert await world.runtime.store.locks.get("vault") is None


async def test_a_home_deploy_into_a_private_channel_the_clicker_is_not_in_posts_nowhere(
    world: World,
) -> None:
    """web was last deployed from a private channel: a Home-tab Deploy by someone outside it
    deploys nothing and posts nothing there."""
    private = "G0PRIVATE"
    await world.driver.command("web", user="U0DEV", channel=private)
    [root] = await eventually(lambda: world.slack.root_messages(private))
    await eventually(lambda: "Started" in world.last_reply(private, root.ts))
    world.slack.members[private] = {"U0DEV", "UBOT"}
    triggered = len(world.nometria.requests_to("POST"))
    opened = await world.driver.home_opened("U0OTHER")
    assert opened.status_code == 200
    await eventually(lambda: world.slack.home_views.get("U0OTHER"))

    await world.driver.click_home("deploybot_home_deploy", "web", user="U0OTHER")

    said = await eventually(
        lambda: (
            "You are not in" in world.slack.home_text("U0OTHER")
            and world.slack.home_text("U0OTHER")
        )
    )
    assert "Nothing was deployed." in said
    assert len(world.slack.root_messages(private)) == 1
    assert len(world.nometria.requests_to("POST")) == triggered
