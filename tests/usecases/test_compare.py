"""Approvers see what they approve: what is live, what would go live, and the repository's
compare view between them; the rollback confirmation links the same view in reverse."""

from __future__ import annotations

import pytest

from bot.render import blocks
from tests.conftest import STORMKIT_FLAVOURS, World, eventually

CHANNEL = "C0DEPLOYS"


@pytest.fixture(params=STORMKIT_FLAVOURS)
def stormkit_flavour(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def apps_extra() -> str:
    return """
[apps.hub]
provider = "stormkit"
env_id = "305"
approval = true
approvers = ["U0LEAD"]
repo = "https://github.com/acme/hub"

[apps.lab]
provider = "nometria"
project_id = "proj_lab"
approval = true
approvers = ["U0LEAD"]
repo = "https://gitlab.com/acme/lab.git"
"""


async def prompt_text(world: World, text: str) -> str:
    """Ask for a deploy; the text of the reply that carries the Approve button."""
    before = len(world.slack.root_messages(CHANNEL))
    await world.driver.command(text, channel=CHANNEL)
    [root] = await eventually(lambda: world.slack.root_messages(CHANNEL)[before:])

    def prompt() -> str | None:
        for message in world.slack.thread(CHANNEL, root.ts):
            if blocks.APPROVE in str(message.blocks):
                return str(message.text)
        return None

    if "hub" in text or "blog" in text:
        await eventually(lambda: world.slack.thread(CHANNEL, root.ts))
        await world.tick(2)  # the build runs, then is ready for approval
    return str(await eventually(prompt))


async def test_a_github_hosted_stormkit_build_links_the_compare_view(world: World) -> None:
    """Live now and the ready build, each with its commit, and compare/<live>...<candidate>."""
    [live_id, _] = world.stormkit.seed_history(n=2)
    live_sha = world.stormkit.deployments[live_id]["sha"]
    text = await prompt_text(world, "hub")
    [candidate] = [d for d in world.stormkit.deployments.values() if d["id"] not in {live_id, _}]

    assert f"*Live now:* `{live_sha[:7]}` on `main` “deploy main” by Jane Doe" in text
    assert f"*Would go live:* `{candidate['sha'][:7]}` on `main`" in text
    compare = f"https://github.com/acme/hub/compare/{live_sha}...{candidate['sha']}"
    assert f"<{compare}|Compare {live_sha[:7]}...{candidate['sha'][:7]}>" in text


async def test_a_gitlab_hosted_nometria_deploy_links_the_branch_until_its_commit_is_known(
    world: World,
) -> None:
    """Nothing is triggered before Approve: the candidate is the branch, or the SHA asked for."""
    [live_id, _] = world.nometria.seed_history("proj_lab", n=2)
    live = world.nometria.deployments[live_id]
    text = await prompt_text(world, "lab")
    assert f"*Live now:* `{live['commit_sha']}` on `main` “{live['commit_message']}”" in text
    assert "*Would go live:* the newest commit on `main`" in text
    assert f"https://gitlab.com/acme/lab/-/compare/{live['commit_sha']}...main|" in text


async def test_a_sha_asked_for_is_the_candidate_of_the_compare_view(world: World) -> None:
    """`/deploy lab beef123`: the compare view ends at that commit."""
    [live_id] = world.nometria.seed_history("proj_lab", n=1)
    live = world.nometria.deployments[live_id]
    text = await prompt_text(world, "lab beef123")
    assert "*Would go live:* `beef123`" in text
    assert f"https://gitlab.com/acme/lab/-/compare/{live['commit_sha']}...beef123|" in text


async def test_without_repo_the_prompt_still_shows_both_commits(world: World) -> None:
    """`blog` names no repository: the commits are there, no link."""
    [live_id, _] = world.stormkit.seed_history(n=2)
    text = await prompt_text(world, "blog")
    assert f"*Live now:* `{world.stormkit.deployments[live_id]['sha'][:7]}`" in text
    assert "*Would go live:* `" in text
    assert "compare" not in text.lower()


async def test_commit_messages_are_escaped_in_the_prompt(world: World) -> None:
    """A commit message is the committer's text: it pings nobody and links nothing."""
    [live_id] = world.nometria.seed_history("proj_lab", n=1)
    world.nometria.deployments[live_id]["commit_message"] = "<!channel> fix <https://x|y> & more"
    text = await prompt_text(world, "lab")
    assert "&lt;!channel&gt; fix &lt;https://x|y&gt; &amp; more" in text
    assert "<!channel>" not in text


async def test_the_rollback_confirmation_links_what_it_takes_out(world: World) -> None:
    """From the live commit back to the target: compare/<target>...<live>."""
    [live_id, target_id] = world.nometria.seed_history("proj_lab", n=2)
    live, target = (world.nometria.deployments[i]["commit_sha"] for i in (live_id, target_id))
    told = await world.ask("rollback lab", user="U0LEAD")
    assert f"https://gitlab.com/acme/lab/-/compare/{target}...{live}" in told
