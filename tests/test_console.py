"""`deploybot console` through a pseudo-terminal: deploy, watch to live, approve, roll back."""

from __future__ import annotations

import io
import itertools
import os
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pexpect
import pytest

from bot.console.render import lines
from bot.console.world import EXAMPLE

# The built-in example, with the sandbox's phases shortened for a test.
APPS = EXAMPLE.replace('"sandbox://local"', '"sandbox://local?step=0.3"')


@pytest.fixture
def console(tmp_path: Path) -> Iterator[pexpect.spawn]:
    yield from _console(tmp_path, APPS)


def _console(tmp_path: Path, apps: str) -> Iterator[pexpect.spawn]:
    (tmp_path / "deploybot.toml").write_text(apps, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DEPLOYBOT_"))}
    child = pexpect.spawn(
        sys.executable,
        ["-m", "bot", "console"],
        cwd=str(tmp_path),
        env=env
        | {"DEPLOYBOT_POLL_INTERVAL": "0.2", "DEPLOYBOT_CONFIG": str(tmp_path / "deploybot.toml")},
        encoding="utf-8",
        timeout=20,
    )
    child.expect("deploybot console: 2 apps")
    yield child
    if child.isalive():
        child.sendline("/quit")
        child.expect(pexpect.EOF)
        assert "Traceback" not in (child.before or "")  # a poll under way ends before the store


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
    console.expect(r"thread \d+, a reply edited\s+│ ✅ Approved by @lead")  # the prompt, no buttons
    console.expect(r"docs is live")

    console.sendline("/in incident")
    console.sendline("/as oncall")
    console.sendline("/deploy rollback web")
    console.expect(r"Roll back web\?")
    roll_back = _button(console, "Roll back…")
    console.sendline(roll_back)
    console.expect(r"form: Roll back web\?")
    console.expect("Why roll back\\? Type it and press Enter")
    console.sendline("")
    console.expect("The form says: Say why, in a few words.")
    console.sendline("checkout errors")
    console.expect("#incident message")
    console.expect("deployed by @dev, to `sbx-")
    console.expect("Reason: checkout errors")
    console.expect(r"web is live")
    console.sendline("/deploy web")
    console.expect("locked by @oncall: rolled back by @oncall in #incident: checkout errors")


def test_a_broken_build_shows_its_log_with_secrets_masked(console: pexpect.spawn) -> None:
    shown = io.StringIO()
    console.logfile_read = shown
    console.sendline("/deploy web broken")
    console.expect("web failed")
    console.expect("```")
    console.expect("```")
    assert "hunter2" not in console.before
    # The requester hears of it directly too; that DM is sent beside the thread, in any order.
    if "direct message to @dev" not in shown.getvalue():
        console.expect("direct message to @dev")
        console.expect("└")
    dm = shown.getvalue().split("direct message to @dev", 1)[1].split("└", 1)[0]
    assert "Your deployment of web" in dm
    assert "Cannot find module" in dm
    assert "hunter2" not in dm


def _spawn(tmp_path: Path, *args: str, **env: str) -> pexpect.spawn:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DEPLOYBOT_"))}
    return pexpect.spawn(
        sys.executable,
        ["-m", "bot", "console", *args],
        cwd=str(tmp_path),
        env=base | env,
        encoding="utf-8",
        timeout=20,
    )


def test_a_deploybot_toml_lying_here_does_not_leave_the_sandbox(tmp_path: Path) -> None:
    example = Path(__file__).parent.parent / "deploybot.example.toml"
    (tmp_path / "deploybot.toml").write_text(example.read_text(encoding="utf-8"))
    child = _spawn(tmp_path, NOMETRIA_API_KEY="nm-real", STORMKIT_DOCS_KEY="sk-real")
    child.expect(r"deploybot console: 2 apps \(web, docs\) from the built-in example\.")
    child.expect("Nothing leaves this machine: every app is on the built-in sandbox platform")
    child.sendline("/deploy web")
    child.expect("Provider: sandbox")
    child.sendline("/quit")
    child.expect(pexpect.EOF)


def test_the_banner_says_plainly_when_deploys_are_real(tmp_path: Path) -> None:
    apps = tmp_path / "mine.toml"
    apps.write_text(
        APPS + '[apps.api]\nprovider = "nometria"\nproject_id = "p1"\n', encoding="utf-8"
    )
    child = _spawn(tmp_path, "--config", str(apps), NOMETRIA_API_KEY="nm-real")
    child.expect(rf"3 apps \(web, docs, api\) from {re.escape(str(apps))}\.")
    child.expect(r"REAL DEPLOYS: api on nometria \(https://api\.nometria\.com\)\.")
    child.sendline("/help")
    child.expect("REAL DEPLOYS: api on nometria")
    child.sendline("/quit")
    child.expect(pexpect.EOF)
    assert "nm-real" not in (child.before or "")


def test_an_unknown_command_is_answered_plainly(console: pexpect.spawn) -> None:
    console.sendline("/foo")
    console.expect("There is no /foo command. The bot has /deploy")
    assert "Unhandled request" not in (console.before or "")
    console.sendline("/deploy help")
    console.expect("/deploy rollback")
    assert "Unhandled request" not in (console.before or "")


def test_ctrl_c_leaves_at_once(console: pexpect.spawn) -> None:
    console.expect("@dev in #deploys>")
    console.sendintr()
    console.expect(pexpect.EOF, timeout=5)
    console.wait()
    assert console.exitstatus == 0, console.before
    assert "Traceback" not in (console.before or "")


def test_home_shows_the_tab_and_its_buttons_work(console: pexpect.spawn) -> None:
    """/home opens the Home tab; its Deploy button (after its confirm) deploys in #deploys."""
    console.sendline("/deploy web")
    console.expect(r"web is live\*? at https://web\.sandbox")
    console.sendline("/home")
    console.expect("@dev's Home tab")
    console.expect("Live: `sbx-")
    console.expect("by @dev")
    deploy = _button(console, "Deploy")
    console.sendline(deploy)
    console.expect(r"Deploy web\? It is followed in a thread in #deploys\. Type y to go on")
    console.sendline("y")
    console.expect("#deploys message 2")
    console.expect("@dev's Home tab")
    console.expect("Deploying web: follow it in #deploys")


def test_a_second_deploy_waits_in_line_and_can_be_cancelled(tmp_path: Path) -> None:
    slow = EXAMPLE.replace('"sandbox://local"', '"sandbox://local?step=1"')
    console = next(_console(tmp_path, slow))
    console.sendline("/deploy web")
    console.expect("Started `sbx-")
    console.sendline("/deploy web")
    cancel = _button(console, "Cancel")
    console.expect("waits its turn \\(number 1 in line\\)")
    console.sendline(cancel)
    console.expect("cancelled this deploy while it waited")
    console.sendline("/deploy web")
    console.expect("waits its turn \\(number 1 in line\\)")
    console.expect("its turn came")
    console.expect("Started `sbx-")
    console.expect(r"web is live")
    console.sendline("/quit")
    console.expect(pexpect.EOF)


def test_each_row_of_buttons_shows_where_its_block_stands() -> None:
    """A Home tab has a row of buttons per app: each is printed under its app, numbered in
    order, and a confirm reads as Slack shows it (title, then its text with names)."""
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": "*docs* (sandbox)"}},
        {"type": "actions", "elements": [_element("Roll back…", "docs")]},
        {"type": "section", "text": {"type": "mrkdwn", "text": "*web* (sandbox)"}},
        {
            "type": "actions",
            "elements": [
                _element("Deploy main", "web", confirm="It is followed in <#C0DEPLOYS>."),
                _element("Roll back…", "web"),
            ],
        },
    ]
    out, buttons = lines(blocks, "", {"C0DEPLOYS": "deploys"}.__getitem__, itertools.count(7))
    assert out == [
        "docs (sandbox)",
        "[7] Roll back…",
        "web (sandbox)",
        "[8] Deploy main   [9] Roll back…",
    ]
    assert [(n, b.value) for n, b in buttons] == [(7, "docs"), (8, "web"), (9, "web")]
    assert buttons[1][1].confirm == "Deploy web? It is followed in #deploys."


def _element(label: str, value: str, *, confirm: str | None = None) -> dict[str, object]:
    button: dict[str, object] = {
        "type": "button",
        "text": {"type": "plain_text", "text": label},
        "action_id": "a",
        "value": value,
    }
    if confirm is not None:
        button["confirm"] = {
            "title": {"type": "plain_text", "text": f"Deploy {value}?"},
            "text": {"type": "mrkdwn", "text": confirm},
        }
    return button
