"""`[[freezes]]` in the apps file: loaded with the apps, or refused at start-up in one line."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot import config as configuration
from bot.config import ConfigError
from bot.config.freezes import frozen
from bot.config.settings import Settings

APPS = """
[apps.web]
provider = "sandbox"

[apps.docs]
provider = "sandbox"
"""
# As the README (and SPEC) write them.
FREEZES = """
[[freezes]]                      # a dated window
apps = ["web"]                   # app names; ["*"] or no key: every app
start = "2026-12-24T00:00:00Z"   # RFC 3339
end = "2026-12-27T00:00:00Z"
reason = "Holidays"

[[freezes]]                      # a recurring window
cron = "0 16 * * FRI"            # when it starts (standard 5-field cron)
duration = "64h"                 # how long it lasts
timezone = "Europe/Berlin"       # default UTC
reason = "No deploys over the weekend"
"""
BAD_CRON = APPS + FREEZES.replace("0 16 * * FRI", "0 16 * * FRY")


def load(tmp_path: Path, text: str) -> configuration.Config:
    path = tmp_path / "deploybot.toml"
    path.write_text(text, encoding="utf-8")
    return configuration.load(Settings(deploybot_config=path), environ={})


def test_the_documented_freezes_load(tmp_path: Path) -> None:
    config = load(tmp_path, APPS + FREEZES)
    assert [f.reason for f in config.freezes] == ["Holidays", "No deploys over the weekend"]
    christmas = datetime(2026, 12, 24, 12, tzinfo=UTC)
    assert frozen(config.freezes, "web", christmas) is not None
    assert frozen(config.freezes, "docs", christmas) is None


def test_no_freezes_is_fine(tmp_path: Path) -> None:
    assert load(tmp_path, APPS).freezes == ()


def test_a_native_toml_time_is_accepted(tmp_path: Path) -> None:
    text = APPS + "[[freezes]]\nstart = 2026-12-24T00:00:00Z\nend = 2026-12-25T00:00:00Z\n"
    (freeze,) = load(tmp_path, text).freezes
    assert freeze.start == datetime(2026, 12, 24, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            BAD_CRON,
            "freezes #2.cron: '0 16 * * FRY' is not a cron expression (5 fields: minute hour "
            "day-of-month month day-of-week, e.g. 0 16 * * FRI)",
        ),
        (
            APPS + FREEZES.replace('apps = ["web"]', 'apps = ["wbe"]'),
            "freezes: freeze #1 names an unknown app `wbe` (the apps are: docs, web)",
        ),
        (
            APPS + FREEZES.replace('"64h"', '"64 hours"'),
            "freezes #2.duration: '64 hours' is not a duration; write it like 64h, 30m or 1h30m",
        ),
        (
            APPS + FREEZES.replace("Europe/Berlin", "Europe/Berln"),
            "freezes #2.timezone: unknown time zone 'Europe/Berln'; "
            "use a name such as Europe/Berlin or UTC",
        ),
        (
            APPS + FREEZES.replace("2026-12-27", "2026-12-20"),
            "freezes #1: `end` must be after `start`",
        ),
        (
            APPS
            + FREEZES.replace('reason = "Holidays"', 'reason = "Holidays"\ncron = "0 0 * * *"'),
            "freezes #1: give `cron` (a recurring window) or `start` and `end`, not both",
        ),
        (
            APPS + FREEZES.replace("reason =", "reasn =", 1),
            "freezes #1.reasn: unknown key; did you mean `reason`?",
        ),
    ],
)
def test_a_bad_freeze_names_where_and_what(tmp_path: Path, text: str, expected: str) -> None:
    with pytest.raises(ConfigError) as raised:
        load(tmp_path, text)
    assert str(raised.value) == f"{tmp_path / 'deploybot.toml'}: {expected}"


def test_check_refuses_a_bad_cron_in_one_line(tmp_path: Path) -> None:
    """`deploybot check` exits 1 naming the file, the freeze, the key and the problem."""
    path = tmp_path / "deploybot.toml"
    path.write_text(BAD_CRON, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DEPLOYBOT_"))}
    result = subprocess.run(
        [sys.executable, "-m", "bot", "check"],
        env=env | {"DEPLOYBOT_CONFIG": str(path)},
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
        timeout=60,
    )
    assert result.returncode == 1
    assert result.stderr.strip() == (
        f"deploybot: {path}: freezes #2.cron: '0 16 * * FRY' is not a cron expression "
        "(5 fields: minute hour day-of-month month day-of-week, e.g. 0 16 * * FRI)"
    )
    # the rest of what `check` looks at is still said in the same run: Slack, the store
    assert [line.split(":")[0] for line in result.stdout.splitlines()] == [
        "slack",
        "slack",
        "store",
    ]


def test_the_readme_and_the_example_file_show_valid_freezes(tmp_path: Path) -> None:
    """The README's snippet is the one loaded above; the example's, uncommented, loads too."""
    root = Path(__file__).parents[2]
    assert FREEZES.strip() in (root / "README.md").read_text(encoding="utf-8")
    example = (root / "deploybot.example.toml").read_text(encoding="utf-8")
    head, commented = example.split("# [[freezes]]", 1)
    freezes = "\n".join(line.removeprefix("#").removeprefix(" ") for line in commented.splitlines())
    path = tmp_path / "deploybot.toml"
    path.write_text(head + "[[freezes]]" + freezes, encoding="utf-8")
    environ = {"NOMETRIA_API_KEY": "k", "STORMKIT_DOCS_KEY": "k"}
    config = configuration.load(Settings(deploybot_config=path), environ=environ)
    assert len(config.freezes) == 2
