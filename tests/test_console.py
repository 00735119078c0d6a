"""`deploybot console` through a pseudo-terminal: deploy, watch to live, approve, roll back."""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import pexpect
import pytest

from bot.console import EXAMPLE

# The built-in example, with the sandbox's phases shortened for a test.
APPS = EXAMPLE.replace('"sandbox://local"', '"sandbox://local?step=0.3"')


@pytest.fixture
def console(tmp_path: Path) -> pexpect.spawn:
    (tmp_path / "deploybot.toml").write_text(APPS, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DEPLOYBOT_"))}
    child = pexpect.spawn(
        sys.executable,
        ["-m", "bot", "console"],
        cwd=str(tmp_path),
        env=env | {"DEPLOYBOT_POLL_INTERVAL": "0.2"},
        encoding="utf-8",
        timeout=20,
    )
    child.expect("deploybot console: 2 apps")
    yield child
    child.sendline("/quit")
    child.expect(pexpect.EOF)


def _button(child: pexpect.spawn, label: str) -> str:
    """Wait for a button with this label and return its number."""
    child.expect(rf"\[(\d+)\] {re.escape(label)}")
    return str(child.match.group(1))


def test_deploy_watch_approve_and_roll_back(console: pexpect.spawn) -> None:
    console.sendline("/deploy web")
    console.expect("Started `sbx-")
    console.expect(r"web is live\*? at https://web\.sandbox")

    console.sendline("/deploy docs")
    approve = _button(console, "Approve & publish")
    console.sendline(approve)
    console.expect("Only @lead may approve `docs`")
    console.sendline("/as lead")
    console.expect("You are @lead")
    console.sendline(approve)
    console.expect("Approved by @lead")
    console.expect(r"docs is live")

    console.sendline("/in incident")
    console.sendline("/as oncall")
    console.sendline("/deploy rollback web")
    console.expect(r"Roll back web\?")
    roll_back = _button(console, "Roll back")
    console.sendline(roll_back)
    console.expect("Type y to go on")
    console.sendline("y")
    console.expect("#incident message")
    console.expect(r"web is live")
    console.sendline("/deploy web")
    console.expect("locked by @oncall: rolled back by @oncall in #incident")


def test_a_broken_build_shows_its_log_with_secrets_masked(console: pexpect.spawn) -> None:
    console.sendline("/deploy web broken")
    console.expect("web failed")
    console.expect("```")
    console.expect("```")
    assert "hunter2" not in console.before
