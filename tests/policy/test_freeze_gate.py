"""Freezes and locks hold deploys; an approver may break glass with a reason, said and audited."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.conftest import World, eventually

CHANNEL = "C0DEPLOYS"
START = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
END = START + timedelta(hours=3)


@pytest.fixture
def apps_extra() -> str:
    return f"""
[[freezes]]
apps = ["docs"]
start = "{START.isoformat()}"
end = "{END.isoformat()}"
reason = "Launch <week> & co"
"""


async def test_a_deploy_during_a_freeze_is_refused_privately_with_why_and_until(
    world: World,
) -> None:
    said = await world.ask("docs", user="U0DEV")
    assert f"`docs` is frozen until {END:%a} {END.day} {END:%b} {END:%H:%M} UTC" in said
    assert "Launch &lt;week&gt; &amp; co" in said
    assert '`/deploy docs --force "reason"`' in said
    assert world.stormkit.requests_to("POST") == []
    assert world.slack.root_messages(CHANNEL) == []
    [refusal] = await world.runtime.store.audit.recent("docs")
    assert (refusal.user, refusal.action, refusal.outcome) == ("U0DEV", "deploy", "refused")
    # Another app is not frozen.
    await world.driver.command("blog", user="U0DEV", channel=CHANNEL)
    await eventually(lambda: world.stormkit.requests_to("POST", "/v1/deploy"))


async def test_only_an_approver_may_force_and_it_is_announced_and_audited(world: World) -> None:
    refused = await world.ask('docs --force "customers are down"', user="U0DEV")
    assert "Only <@U0LEAD> may deploy it anyway." in refused
    assert world.stormkit.requests_to("POST") == []

    await world.driver.command(
        'docs --force "customers <are> down & waiting"', user="U0LEAD", channel=CHANNEL
    )
    [call] = await eventually(lambda: world.stormkit.requests_to("POST", "/v1/deploy"))
    roots = await eventually(lambda: world.slack.root_messages(CHANNEL)[1:])
    announcement = world.slack.root_messages(CHANNEL)[0].all_text
    assert "<@U0LEAD> is deploying *docs* anyway. `docs` is frozen until" in announcement
    assert "Their reason: customers &lt;are&gt; down &amp; waiting" in announcement
    assert "Deploy docs" in roots[0].all_text
    assert call.json["branch"] == "main"
    entries = await world.runtime.store.audit.recent("docs")
    forced = next(e for e in entries if e.outcome == "forced")
    assert forced.user == "U0LEAD"
    assert forced.detail.startswith("break glass: customers <are> down & waiting")


async def test_a_lock_holds_too_and_can_be_forced(world: World) -> None:
    await world.aloud("lock blog database move", user="U0DEV")
    refused = await world.ask("blog", user="U0DEV")
    assert "`blog` is locked by you: database move." in refused  # said to who locked it
    assert "--force" in refused
    await world.driver.command('blog --force "the fix"', user="U0LEAD", channel=CHANNEL)
    await eventually(lambda: world.stormkit.requests_to("POST", "/v1/deploy"))
    await eventually(
        lambda: any("anyway" in m.all_text for m in world.slack.root_messages(CHANNEL))
    )


async def test_rollbacks_still_work_during_a_freeze(world: World) -> None:
    world.stormkit.seed_history(n=2)
    said = await world.ask("rollback docs", user="U0LEAD")
    assert "Roll back docs?" in said


async def test_apps_shows_the_freeze(world: World) -> None:
    said = await world.ask("apps", user="U0DEV")
    docs = said[said.index("*docs*") :]
    assert ":cold_face: Frozen until" in docs
    assert "Launch &lt;week&gt; &amp; co" in docs
    assert "Frozen" not in said[said.index("*blog*") : said.index("*docs*")]


async def test_a_forced_deploy_in_line_still_breaks_glass_in_its_turn(world: World) -> None:
    """The reason is kept with it: when its turn comes during the freeze it starts, saying so."""
    await world.driver.command('docs --force "hotfix one"', user="U0LEAD", channel=CHANNEL)
    await eventually(lambda: world.stormkit.requests_to("POST", "/v1/deploy"))
    await world.driver.command('docs --force "hotfix <two>"', user="U0LEAD", channel=CHANNEL)

    def deploy_roots() -> list[str]:
        return [m.ts for m in world.slack.root_messages(CHANNEL) if "Deploy docs" in m.text]

    first, second = await eventually(lambda: deploy_roots()[1:] and deploy_roots())

    def thread(ts: str) -> str:
        return "\n".join(world.slack.texts_in_thread(CHANNEL, ts))

    await eventually(lambda: "waits its turn" in thread(second))
    for _ in range(30):
        if "Started" in thread(second):
            break
        await world.tick()
    assert "is live" in thread(first)
    assert len(world.stormkit.requests_to("POST", "/v1/deploy")) == 2
    said = thread(second)
    assert "Deploying through what holds deploys now. `docs` is frozen until" in said
    assert "The reason given: hotfix &lt;two&gt;" in said
    details = [e.detail for e in await world.runtime.store.audit.recent("docs", limit=20)]
    assert any(d.startswith("break glass in its turn: hotfix <two>") for d in details)
