"""A bad apps file or a missing secret stops start-up with one line, never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot import config as configuration
from bot.config import ConfigError
from bot.config.settings import Settings

GOOD = """
[apps.web]
provider = "nometria"
project_id = "proj_abc123"
"""
ENV = {"NOMETRIA_API_KEY": "nm-key", "STORMKIT_API_KEY": "sk-key"}


def load(tmp_path: Path, text: str, environ: dict[str, str] = ENV) -> configuration.Config:
    path = tmp_path / "deploybot.toml"
    path.write_text(text, encoding="utf-8")
    return configuration.load(Settings(deploybot_config=path), environ=environ)


def test_a_good_file_loads_with_its_keys(tmp_path: Path) -> None:
    config = load(tmp_path, GOOD)
    assert config.apps["web"].name == "web"
    assert config.api_keys["web"].get_secret_value() == "nm-key"
    assert config.base_url("nometria") == "https://api.nometria.com"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (GOOD + "aproval = true\n", "apps.web.aproval: unknown key"),
        (GOOD + "approval = true\n", "apps.web: approval = true needs at least one approver"),
        (
            '[apps.x]\nprovider = "heroku"\n',
            "apps.x.provider: must be one of 'nometria', 'stormkit' or 'sandbox'",
        ),
        ('[apps.x]\nprovider = "nometria"\n', "apps.x: a nometria app needs `project_id`"),
        ("[apps.web\n", "not valid TOML"),
        ("", "apps: required key is missing"),
        (GOOD + 'deployers = "U1"\n', "apps.web.deployers: must be a list in brackets, like ["),
        (GOOD + 'approvers = [""]\n', 'apps.web.approvers #1: "" is not a Slack user ID'),
        (
            GOOD + 'approvers = ["@lead"]\n',
            'apps.web.approvers #1: "@lead" is not a Slack user ID (a name, not an ID)',
        ),
        (
            GOOD + 'channels = ["#deploys"]\n',
            'apps.web.channels #1: "#deploys" is not a Slack channel ID (a name, not an ID)',
        ),
        (
            'incident_channels = ["incident"]\n' + GOOD,
            'incident_channels #1: "incident" is not a Slack channel ID',
        ),
        (
            '[apps."my web"]\nprovider = "sandbox"\n',
            'apps."my web": an app name is typed after /deploy',
        ),
        ('[apps.Status]\nprovider = "sandbox"\n', "apps.Status: `Status` is a /deploy command"),
        (
            GOOD + '[providers.nometria]\nbase_url = "api.nometria.com"\n',
            'providers.nometria.base_url: "api.nometria.com" is not an http(s) URL',
        ),
        (
            GOOD + '[providers.nometria]\nbase_url = "sandbox://local"\n',
            "providers.nometria.base_url: sandbox:// is for the sandbox provider only",
        ),
    ],
)
def test_a_bad_file_names_the_key_and_the_problem(tmp_path: Path, text: str, expected: str) -> None:
    with pytest.raises(ConfigError) as raised:
        load(tmp_path, text)
    message = str(raised.value)
    assert message.startswith(str(tmp_path / "deploybot.toml") + ": ")
    assert expected in message
    assert "\n" not in message


def test_every_problem_is_said_at_once_a_line_each(tmp_path: Path) -> None:
    text = """
incident_channels = "C0INCIDENT"

[apps.web]
provider = "nometria"
project_id = "p1"
aproval = true
approvers = ["@lead"]

[apps."my docs"]
provider = "sandbox"
approval = "yes"
"""
    with pytest.raises(ConfigError) as raised:
        load(tmp_path, text)
    path = tmp_path / "deploybot.toml"
    lines = str(raised.value).splitlines()
    assert lines == [
        f'{path}: apps."my docs": an app name is typed after /deploy: letters, digits, '
        "and . _ - only, starting with a letter or digit, at most 100",
        f'{path}: incident_channels: must be a list in brackets, like ["a", "b"]',
        f'{path}: apps.web.approvers #1: "@lead" is not a Slack user ID (a name, not an ID): '
        'write one like "U0123ABCD" (profile, ⋮ menu, Copy member ID)',
        f"{path}: apps.web.aproval: unknown key; did you mean `approval`?",
        f'{path}: apps."my docs".approval: must be true or false',
    ]
    assert "Input should be" not in str(raised.value)


def test_the_example_file_loads(tmp_path: Path) -> None:
    example = Path(__file__).parents[2] / "deploybot.example.toml"
    config = load(tmp_path, example.read_text(encoding="utf-8"), ENV | {"STORMKIT_DOCS_KEY": "k"})
    assert set(config.apps) == {"web", "docs"}


def test_a_missing_key_names_the_variable(tmp_path: Path) -> None:
    text = GOOD + '[apps.docs]\nprovider = "stormkit"\napi_key_env = "STORMKIT_DOCS_KEY"\n'
    with pytest.raises(ConfigError) as raised:
        load(tmp_path, text)
    assert str(raised.value) == (
        f"{tmp_path / 'deploybot.toml'}: apps.docs: the stormkit key is not set: set "
        "STORMKIT_DOCS_KEY (in the environment or .env) to a Stormkit API key: in Stormkit, your "
        "app → the environment → Config → Other → API Keys (an app, team or user key needs "
        "`env_id` too)"
    )


def test_a_missing_file_says_so(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="file not found"):
        configuration.load(Settings(deploybot_config=tmp_path / "nope.toml"), environ=ENV)


def test_the_cli_prints_one_line_and_exits_1(tmp_path: Path) -> None:
    path = tmp_path / "deploybot.toml"
    path.write_text(GOOD + "aproval = true\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DEPLOYBOT_"))}
    result = subprocess.run(
        [sys.executable, "-m", "bot", "check"],
        env=env | ENV | {"DEPLOYBOT_CONFIG": str(path)},
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
    )
    assert result.returncode == 1
    assert result.stderr.strip() == (
        f"deploybot: {path}: apps.web.aproval: unknown key; did you mean `approval`?"
    )
    assert "Traceback" not in result.stderr


@pytest.mark.slow  # real processes, seconds of waiting: CI runs it too (`-m slow`)
def test_the_cli_says_every_problem_a_line_each(tmp_path: Path) -> None:
    path = tmp_path / "deploybot.toml"
    path.write_text(
        GOOD + 'aproval = true\napprovers = [""]\nchannels = ["#deploys"]\n'
        '[apps."my docs"]\nprovider = "sandbox"\n',
        encoding="utf-8",
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DEPLOYBOT_"))}
    for command in ("check", "serve", "console"):
        result = subprocess.run(  # noqa: S603 - our own CLI, fixed arguments
            [sys.executable, "-m", "bot", command],
            env=env | ENV | {"DEPLOYBOT_CONFIG": str(path), "SLACK_BOT_TOKEN": "xoxb-1"},
            capture_output=True,
            text=True,
            check=False,
            cwd=tmp_path,
            stdin=subprocess.DEVNULL,
        )
        assert result.returncode == 1, (command, result.stderr)
        lines = result.stderr.strip().splitlines()
        in_file = [line for line in lines[1:] if line.startswith(f"  {path}: ")]
        assert [line.split(": ")[1] for line in in_file] == [
            'apps."my docs"',
            "apps.web.approvers #1",
            "apps.web.channels #1",
            "apps.web.aproval",
        ], (command, result.stderr)
        # serve needs the signing secret too, and says so in the same run
        rest = ["  environment: SLACK_SIGNING_SECRET"] if command == "serve" else []
        assert [line.split(" is not set")[0] for line in lines[5:]] == rest
        assert lines[0] == f"deploybot: {4 + len(rest)} problems to fix:", (command, result.stderr)


@pytest.mark.slow
def test_serve_without_a_signing_secret_says_which_variable(tmp_path: Path) -> None:
    path = tmp_path / "deploybot.toml"
    path.write_text(GOOD, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DEPLOYBOT_"))}
    result = subprocess.run(
        [sys.executable, "-m", "bot", "serve"],
        env=env | ENV | {"DEPLOYBOT_CONFIG": str(path), "SLACK_BOT_TOKEN": "xoxb-1"},
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
        timeout=60,
    )
    assert result.returncode == 1
    assert "SLACK_SIGNING_SECRET is not set" in result.stderr
    assert "xoxb-1" not in result.stderr


def test_the_example_apps_file_is_valid() -> None:
    example = Path(__file__).parents[2] / "deploybot.example.toml"
    config = configuration.load(
        Settings(deploybot_config=example), environ=ENV | {"STORMKIT_DOCS_KEY": "sk-docs"}
    )
    assert set(config.apps) == {"web", "docs"}
    assert config.apps["docs"].approval
    assert config.apps["web"].announce == "C0DEPLOYS"
    assert config.apps["web"].repo == "https://github.com/acme/web"
    assert config.apps["docs"].repo == "https://gitlab.com/acme/docs"


def test_the_watch_interval_is_the_poll_interval_unless_set() -> None:
    assert Settings(deploybot_poll_interval=7).watch_interval == 7
    assert Settings(deploybot_poll_interval=7, deploybot_watch_interval=30).watch_interval == 30


def test_the_poll_lease_and_the_message_claim_follow_the_interval() -> None:
    """Two intervals to hold a deployment, and a message (the heartbeat renews it while the
    process lives, however long Slack takes); DEPLOYBOT_LEASE_SECONDS sets the claim."""
    fast = Settings(deploybot_poll_interval=0.3)
    assert (fast.poll_lease_seconds, fast.claim_seconds) == (0.6, 0.6)
    default = Settings(deploybot_lease_seconds=12)
    assert (default.poll_lease_seconds, default.claim_seconds) == (20.0, 12.0)
