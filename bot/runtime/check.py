"""What `deploybot check` tries, a line each: every app's key, Slack's token, the store."""

from __future__ import annotations

from collections.abc import Callable

from bot import providers
from bot.config import Config, ConfigError, preflight
from bot.config.settings import Settings
from bot.migrations import open_store
from bot.providers import http as provider_http
from bot.providers.base import ProviderError
from bot.render.commits import app_keys
from bot.runtime.slack import BadToken, SlackUnreachable, slack_client, verify_token

Say = Callable[[str], None]


async def check_each_part(setup: preflight.Setup, say: Say) -> int:
    """Say what works and what does not; how many parts failed."""
    failures = 0
    if setup.config is not None:
        failures += await _check_apps(setup.config, say)
    lines = [*await _check_slack(setup), await _check_store(setup.settings)]
    for line in lines:
        failures += "PROBLEM" in line
        say(line)
    return failures


async def _check_apps(config: Config, say: Say) -> int:
    failures = 0
    async with provider_http.client() as http:
        adapters = providers.build_all(config, http)
        for name, app in sorted(config.apps.items()):
            rules = "approval by " + ", ".join(app.approvers) if app.approval else "no approval"
            try:
                await adapters[name].history(limit=1)
                key = "key works"
            except ProviderError as exc:
                failures += 1
                key = f"PROBLEM: {exc}"
            keys = "".join(f", {said}" for said in app_keys(app.announce, app.repo, slack=False))
            say(f"{name}: {app.provider}, {rules}{keys}; {key}")
            if app.sole_approver is not None:
                say(
                    f"{name}: WARNING: {app.sole_approver} is its only approver and may deploy it, "
                    "but cannot approve their own deployment: add a second approver to "
                    "`approvers`, or set `allow_self_approval = true`"
                )
    return failures


async def _check_slack(setup: preflight.Setup) -> list[str]:
    said = [f"slack: PROBLEM: {line.removeprefix('environment: ')}" for line in setup.slack]
    token = setup.settings.slack_bot_token
    if token is None or any("SLACK_BOT_TOKEN" in line for line in said):
        return said
    slack = slack_client(setup.settings)
    try:
        said.insert(0, f"slack: token works (the bot is {await verify_token(slack)})")
    except (BadToken, SlackUnreachable) as exc:
        said.insert(0, f"slack: PROBLEM: {exc}")
    finally:
        if slack.session is not None:
            await slack.session.close()
    return said


async def _check_store(settings: Settings) -> str:
    try:
        store = await open_store(settings, create=False)
    except ConfigError as exc:
        return f"store: PROBLEM: {str(exc).removeprefix('environment: ')}"
    await store.close()
    return f"store: answers ({store.engine.url.render_as_string(hide_password=True)})"
