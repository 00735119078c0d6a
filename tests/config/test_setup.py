"""A first `serve` or `check`, as a new user runs them: every missing or wrong setting in one
run, each with its fix; `--config` names the apps file."""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import BOT_TOKEN, NOMETRIA_KEY, SIGNING_SECRET, STORMKIT_KEY

EXAMPLE = Path(__file__).parents[2] / "deploybot.example.toml"


async def _run(cwd: Path, *args: str, **env: str) -> tuple[int, str, str]:
    """The CLI as a process in `cwd`, with nothing of ours in its environment but `env`."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DEPLOYBOT_"))}
    base = {k: v for k, v in base.items() if not k.endswith("_API_KEY")}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *args,
        env=base | {"DEPLOYBOT_METRICS_ADDR": "off"} | env,
        cwd=cwd,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    async with asyncio.timeout(60):
        out, err = await process.communicate()
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


def _problems(err: str) -> list[str]:
    """The problems `deploybot: N problems to fix:` lists, checked against its count."""
    lines = err.strip().splitlines()
    count = int(lines[0].removeprefix("deploybot: ").split()[0])
    assert len(lines) == count + 1, err
    return [line.removeprefix("  ") for line in lines[1:]]


async def test_a_first_serve_says_everything_to_set_up_in_one_run(tmp_path: Path) -> None:
    """Nothing set up: the apps file and both Slack variables, each with where it comes from."""
    code, out, err = await _run(tmp_path, "serve")
    assert code == 1
    assert out == ""
    assert _problems(err) == [
        "deploybot.toml: file not found: start from the example: cp deploybot.example.toml "
        "deploybot.toml (or name your apps file with --config FILE or DEPLOYBOT_CONFIG)",
        "environment: SLACK_BOT_TOKEN is not set: set it to the Bot User OAuth Token (xoxb-...), "
        "on api.slack.com/apps → your app → OAuth & Permissions once the app is installed to "
        "the workspace",
        "environment: SLACK_SIGNING_SECRET is not set: set it to the Signing Secret, on "
        "api.slack.com/apps → your app → Basic Information → App Credentials (or set "
        "SLACK_APP_TOKEN to take Slack's requests over Socket Mode instead)",
    ]
    assert not (tmp_path / "deploybot.db").exists()  # nothing was started


@pytest.mark.slow
async def test_after_copying_the_example_the_keys_and_a_typo_come_in_one_run(
    tmp_path: Path,
) -> None:
    """The example copied, `approval` mistyped, a bad PORT: every key and the typo's fix."""
    text = EXAMPLE.read_text(encoding="utf-8").replace("approval = true ", "aproval = true ")
    (tmp_path / "deploybot.toml").write_text(text, encoding="utf-8")
    code, _, err = await _run(tmp_path, "serve", SLACK_BOT_TOKEN=BOT_TOKEN, PORT="http")
    assert code == 1
    problems = _problems(err)
    assert problems[0].startswith("environment: PORT: ")
    assert problems[1:] == [
        "deploybot.toml: apps.docs.aproval: unknown key; did you mean `approval`?",
        "deploybot.toml: apps.web: the nometria key is not set: set NOMETRIA_API_KEY (in the "
        "environment or .env) to the Nometria API key (sent as `Authorization: Bearer`)",
        "deploybot.toml: apps.docs: the stormkit key is not set: set STORMKIT_DOCS_KEY (in the "
        "environment or .env) to a Stormkit API key: in Stormkit, your app → the environment → "
        "Config → Other → API Keys (an app, team or user key needs `env_id` too)",
        "environment: SLACK_SIGNING_SECRET is not set: set it to the Signing Secret, on "
        "api.slack.com/apps → your app → Basic Information → App Credentials (or set "
        "SLACK_APP_TOKEN to take Slack's requests over Socket Mode instead)",
    ]
    assert BOT_TOKEN not in err


async def test_unknown_keys_anywhere_in_the_file_get_the_closest_known_one(tmp_path: Path) -> None:
    """At the top, in a provider, an app and a freeze; nothing close: the keys are listed."""
    (tmp_path / "apps.toml").write_text(
        'incident_channel = ["C0INC"]\n'
        '[providers.nometria]\nbaseurl = "https://api.nometria.com"\n'
        '[apps.web]\nprovider = "sandbox"\nApprovers = ["U0LEAD"]\nzzz = 1\n'
        '[[freezes]]\nreasons = "Holidays"\n',
        encoding="utf-8",
    )
    code, _, err = await _run(tmp_path, "check", "--config", "apps.toml")
    assert code == 1
    in_file = [line for line in _problems(err) if line.startswith("apps.toml: ")]
    assert in_file == [
        "apps.toml: providers.nometria.base_url: required key is missing",
        "apps.toml: providers.nometria.baseurl: unknown key; did you mean `base_url`?",
        "apps.toml: apps.web.Approvers: unknown key; did you mean `approvers`?",
        "apps.toml: apps.web.zzz: unknown key (the keys here: provider, project_id, env_id, "
        "api_key_env, default_branch, approval, deployers, approvers, allow_self_approval, "
        "channels, announce, repo)",
        "apps.toml: freezes #1.reasons: unknown key; did you mean `reason`?",
        "apps.toml: incident_channel: unknown key; did you mean `incident_channels`?",
    ]


@pytest.mark.slow
async def test_check_and_serve_take_config(tmp_path: Path) -> None:
    """`--config FILE` is read by both, before DEPLOYBOT_CONFIG; a missing one is named."""
    (tmp_path / "mine.toml").write_text('[apps.web]\nprovider = "sandbox"\n', encoding="utf-8")
    env = {"SLACK_BOT_TOKEN": "xapp-1-A0-not-a-bot-token", "DEPLOYBOT_CONFIG": "nope.toml"}
    for command in ("check", "serve"):
        code, out, err = await _run(tmp_path, command, "--config", "mine.toml", **env)
        assert code == 1
        said = out + err
        assert "nope.toml" not in said, command
        assert "SLACK_BOT_TOKEN holds an app-level token (xapp-...), which goes in " in said
        assert "xapp-1-A0-not-a-bot-token" not in said
    code, _, err = await _run(tmp_path, "check", "--config", "other.toml")
    assert code == 1
    assert (
        "other.toml: file not found (to start from the example: cp deploybot.example.toml "
        "other.toml)"
    ) in err


async def test_serve_says_a_refused_token_with_the_other_problems(
    tmp_path: Path, served_fakes: Any
) -> None:
    """A token Slack refuses is one more line of the same list, not a run of its own."""
    _, _, _, _, servers = served_fakes
    (tmp_path / "deploybot.toml").write_text('[apps.web]\nprovider = "sandbox"\n')
    slack = {"SLACK_BOT_TOKEN": "xoxb-garbage", "SLACK_API_URL": servers["slack"].url + "/api/"}
    code, _, err = await _run(tmp_path, "serve", **slack)
    assert code == 1
    assert [line.split(":")[1] for line in _problems(err)] == [
        " SLACK_SIGNING_SECRET is not set",
        " Slack refused SLACK_BOT_TOKEN (invalid_auth)",
    ]
    assert "xoxb-garbage" not in err


async def test_the_shipped_example_passes_check_without_a_warning(
    tmp_path: Path, served_fakes: Any
) -> None:
    """deploybot.example.toml, its keys set: every app's key works, nothing to warn about."""
    _, _, _, _, servers = served_fakes
    shutil.copy(EXAMPLE, tmp_path / "deploybot.toml")
    text = (tmp_path / "deploybot.toml").read_text(encoding="utf-8")
    for provider, real in (
        ("nometria", "https://api.nometria.com"),
        ("stormkit", "https://api.stormkit.io"),
    ):
        text = text.replace(real, servers[provider].url)  # the fakes stand for the real APIs
    (tmp_path / "deploybot.toml").write_text(text, encoding="utf-8")
    code, out, err = await _run(
        tmp_path,
        "check",
        NOMETRIA_API_KEY=NOMETRIA_KEY,
        STORMKIT_DOCS_KEY=STORMKIT_KEY,
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_API_URL=servers["slack"].url + "/api/",
    )
    assert (code, err) == (0, ""), out
    assert [line.split(":")[0] for line in out.splitlines()] == ["docs", "web", "slack", "store"]
    assert "WARNING" not in out
    assert "PROBLEM" not in out
