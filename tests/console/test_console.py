"""`deploybot console` through a pseudo-terminal: deploy, watch to live, approve, roll back."""

from __future__ import annotations

import io
import itertools
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pexpect
import pyte
import pytest
from rich.cells import cell_len

from bot.console.render import lines, mrkdwn
from bot.console.terminal import boxed
from bot.console.world import EXAMPLE

# The built-in example, with the sandbox's phases shortened for a test.
APPS = EXAMPLE.replace('"sandbox://local"', '"sandbox://local?step=0.3"')


@pytest.fixture
def console(tmp_path: Path) -> Iterator[pexpect.spawn]:
    yield from _console(tmp_path, APPS)


def _console(tmp_path: Path, apps: str) -> Iterator[pexpect.spawn]:
    (tmp_path / "deploybot.toml").write_text(apps, encoding="utf-8")
    child = _spawn(
        tmp_path,
        DEPLOYBOT_POLL_INTERVAL="0.2",
        DEPLOYBOT_CONFIG=str(tmp_path / "deploybot.toml"),
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


@pytest.mark.slow  # real processes, seconds of waiting: CI runs it too (`-m slow`)
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
    console.expect(r"Deploys of `web` are asked for in #deploys only: type `/deploy web` there\.")
    console.sendline("/in deploys")
    console.sendline("/deploy web")
    console.expect(r"locked by you: a rollback in #incident \(checkout errors\)")


def test_a_broken_build_shows_its_log_with_secrets_masked(console: pexpect.spawn) -> None:
    shown = io.StringIO()
    console.logfile_read = shown
    console.sendline("/deploy web broken")
    console.expect("web: Build failed")
    console.expect("```")
    console.expect("```")
    assert "hunter2" not in console.before
    # The requester hears of it directly too; that DM is sent beside the thread, in any order.
    if "direct message to @dev" not in shown.getvalue():
        console.expect("direct message to @dev")
    while "└" not in shown.getvalue().split("direct message to @dev", 1)[1]:
        console.expect("└")  # the DM's box, read to its end
    dm = shown.getvalue().split("direct message to @dev", 1)[1].split("└", 1)[0]
    assert "Your deployment of web" in dm
    assert "See its thread [#deploys thread 1] in #deploys." in dm  # where Slack links
    assert "Cannot find module" in dm
    assert "hunter2" not in dm


def _spawn(
    tmp_path: Path, *args: str, columns: int = 250, rows: int = 50, **env: str
) -> pexpect.spawn:
    """The console in a pseudo-terminal (prompt_toolkit's prompt, rich's wrapping), wide enough
    that a message's line is one line unless a test makes it narrow. A terminal answers where
    its cursor is when asked; pexpect does not, so prompt_toolkit is told not to ask."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DEPLOYBOT_"))}
    return pexpect.spawn(
        sys.executable,
        ["-m", "bot", "console", *args],
        cwd=str(tmp_path),
        env=base | {"PROMPT_TOOLKIT_NO_CPR": "1"} | env,
        encoding="utf-8",
        timeout=20,
        dimensions=(rows, columns),
    )


@pytest.mark.slow
def test_a_deploybot_toml_lying_here_does_not_leave_the_sandbox(tmp_path: Path) -> None:
    example = Path(__file__).parents[2] / "deploybot.example.toml"
    (tmp_path / "deploybot.toml").write_text(example.read_text(encoding="utf-8"))
    child = _spawn(tmp_path, NOMETRIA_API_KEY="nm-real", STORMKIT_DOCS_KEY="sk-real")
    child.expect(r"deploybot console: 2 apps \(web, docs\) from the built-in example\.")
    child.expect(
        "Nothing leaves this machine: every app is on the built-in sandbox platform. "
        "Try your own apps file with --config FILE."
    )
    child.sendline("/deploy web")
    child.expect("Provider: sandbox")
    child.sendline("/quit")
    child.expect(pexpect.EOF)


@pytest.mark.slow
def test_the_banner_does_not_suggest_config_to_whom_gave_one(tmp_path: Path) -> None:
    apps = tmp_path / "mine.toml"
    apps.write_text(APPS, encoding="utf-8")
    child = _spawn(tmp_path, "--config", str(apps))
    shown = io.StringIO()
    child.logfile_read = shown
    child.expect(rf"2 apps \(web, docs\) from {re.escape(str(apps))}\.")
    child.expect("every app is on the built-in sandbox platform.")
    child.sendline("/help")
    child.expect("/help, /quit")
    child.sendline("/quit")
    child.expect(pexpect.EOF)
    assert "--config" not in shown.getvalue()


@pytest.mark.slow
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
    console.sendline("²")  # a digit to str.isdigit(), no button's number
    console.expect("Type /deploy ..., a button's number, or /help.")
    assert "Traceback" not in (console.before or "")
    console.sendline("7")  # never shown: not "any more"
    console.expect(r"There is no button 7\.")


def test_ctrl_c_leaves_at_once(console: pexpect.spawn) -> None:
    console.expect("@dev in #deploys>")
    console.sendintr()
    console.expect(pexpect.EOF)  # no /quit needed; 20 s bounds a failure, it times nothing
    console.wait()
    assert console.exitstatus == 0, console.before
    assert "Traceback" not in (console.before or "")


@pytest.mark.slow
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
    # The dialog's text is plain_text (Slack's documented type): it cannot link a channel.
    console.expect(r"Deploy web\? Deploy starts web now; it is followed in a thread")
    console.expect("anything else cancels")
    console.sendline("y")
    console.expect("#deploys message 2")
    console.expect("@dev's Home tab")
    console.expect("Deploying web: follow it in #deploys")


@pytest.mark.slow  # real processes, seconds of waiting: CI runs it too (`-m slow`)
def test_a_second_deploy_waits_in_line_and_can_be_cancelled(tmp_path: Path) -> None:
    slow = EXAMPLE.replace('"sandbox://local"', '"sandbox://local?step=1"')
    console = next(_console(tmp_path, slow))
    console.sendline("/deploy web")
    console.expect("Started `sbx-")
    console.sendline("/deploy web")
    # The root's edit with its Cancel button and the reply that says its place go their own
    # ways (edits on the workspace's budget, replies at the channel's pace): either may be first.
    waits = "waits its turn \\(number 1 in line\\)"
    if console.expect([r"\[(\d+)\] Cancel", waits]) == 0:
        cancel = str(console.match.group(1))
        console.expect(waits)
    else:
        cancel = _button(console, "Cancel")
    console.sendline(cancel)
    console.expect("cancelled this deploy while it waited")
    console.sendline(cancel)  # shown once, gone with the deploy it cancelled
    console.expect(f"There is no button {cancel} any more\\.")
    console.sendline("/deploy web")
    console.expect("waits its turn \\(number 1 in line\\)")
    console.expect("its turn came")
    console.expect("Started `sbx-")
    console.expect(r"web is live")
    console.sendline("/quit")
    console.expect(pexpect.EOF)


@pytest.mark.slow  # real processes, seconds of waiting: CI runs it too (`-m slow`)
def test_a_cancel_keeps_its_number_while_the_line_moves(tmp_path: Path) -> None:
    """Two deploys wait behind one in flight. When the first leaves the line, the second's root
    is edited (now next in line): its Cancel keeps the number it was shown with, so pressing
    that number cancels that deploy, and the first's number, gone with its button, does
    nothing."""
    slow = EXAMPLE.replace('"sandbox://local"', '"sandbox://local?step=1"')
    console = next(_console(tmp_path, slow))
    console.sendline("/deploy web")
    console.expect("Started `sbx-")
    console.sendline("/deploy web")
    second = _cancel_of(console, 2)  # posted with its Cancel, never edited to add it
    console.expect(r"number 1 in line")
    console.sendline("/deploy web")
    third = _cancel_of(console, 3)
    console.expect(r"number 2 in line")
    console.expect(r"thread 2\s+│ ▶️ +@dev, its turn came")
    console.expect(r"message 3 edited\s+│ == Deploy web ==\s+│ Status: ⌛ waiting: next in line")
    console.expect(r"\[(\d+)\] Cancel")
    assert console.match.group(1) == third  # the same button, the same number
    console.sendline(second)
    console.expect(rf"There is no button {second} any more\.")
    console.sendline(third)
    console.expect(r"thread 3\s+│ ✖️  @dev cancelled this deploy while it waited")
    console.expect(r"thread 2\s+│ ✅ web is live")
    console.sendline("/quit")
    console.expect(pexpect.EOF)
    assert "thread 3\r\n│ ▶️" not in (console.before or "")  # the cancelled one never ran


def _cancel_of(console: pexpect.spawn, message: int) -> str:
    """The number of the Cancel button printed on that root message."""
    console.expect(rf"#deploys message {message}( edited)?\s+│[^┌└]*\[(\d+)\] Cancel")
    return str(console.match.group(2))


def test_as_names_only_people_that_exist(console: pexpect.spawn) -> None:
    console.sendline("/as bob")
    console.expect(r"There is nobody called bob here\. Type /as and one of: dev, lead, oncall\.")
    console.expect("@dev in #deploys>")  # still @dev
    console.sendline("/in general")
    console.expect(r"There is no channel general here\. Type /in and one of: deploys, incident")
    console.sendline("/as @Lead")
    console.expect("You are @lead.")
    console.expect("@lead in #deploys>")


@pytest.mark.slow
def test_as_takes_the_ids_the_apps_file_names(tmp_path: Path) -> None:
    apps = APPS.replace('approvers = ["U0LEAD"]', 'approvers = ["U0LEAD", "U07QA"]', 1)
    console = next(_console(tmp_path, apps))
    console.sendline("/as U0NOBODY")
    console.expect(r"Type /as and one of: dev, lead, oncall, U07QA\.")
    console.sendline("/as U07QA")
    console.expect("You are @U07QA.")
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
    numbers = itertools.count(7)
    out, buttons = lines(blocks, "", {"C0DEPLOYS": "deploys"}.__getitem__, lambda _: next(numbers))
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


def test_a_box_wraps_by_cell_and_keeps_its_border() -> None:
    """Every line of a box starts with its border and fits the width in cells (an emoji takes
    two); words move whole to the next line, a word longer than a line is folded, nothing is
    lost; without a width nothing is wrapped."""
    status = (
        "Status: ✅ live | Ref: `main` | Requested by: @dev | "
        "URL: https://web.sandbox.deploybot.dev/a/path/longer/than/the/line/itself"
    )
    printed = boxed("#deploys message 1 edited", ["== Deploy web ==", status], 30).split("\n")
    assert printed[0] == "┌ #deploys message 1 edited"
    assert printed[-1] == "└"
    inside = printed[1:-1]
    assert all(line.startswith("│ ") and cell_len(line) <= 30 for line in inside), printed
    assert inside[0] == "│ == Deploy web =="
    # 28 cells inside: "Status: ✅ live | Ref: `main`" takes 29, ✅ counted as two cells
    assert inside[1] == "│ Status: ✅ live | Ref:"
    assert "".join(line[2:] for line in inside[1:]).replace(" ", "") == status.replace(" ", "")
    assert boxed("head", [status], None).split("\n") == ["┌ head", f"│ {status}", "└"]


@pytest.mark.slow
def test_a_narrow_terminal_wraps_and_late_output_goes_above_the_prompt(tmp_path: Path) -> None:
    """What a 50-column terminal shows (pyte plays the terminal): each line of each message
    inside its border, the root's long status whole once its lines are joined, and the prompt
    drawn again under what arrived while a command was half typed, the typing kept."""
    (tmp_path / "apps.toml").write_text(APPS, encoding="utf-8")
    columns, rows = 50, 300
    child = _spawn(
        tmp_path,
        columns=columns,
        rows=rows,
        DEPLOYBOT_POLL_INTERVAL="0.2",
        DEPLOYBOT_CONFIG=str(tmp_path / "apps.toml"),
    )
    shown = io.StringIO()
    child.logfile_read = shown
    child.expect("@dev in #deploys>")
    child.sendline("/deploy web")
    child.expect("Started `sbx-")
    child.send("/depl")  # half typed when the rest arrives
    child.expect(r"Status: ✅ live")
    child.expect("└")
    child.expect("/depl")  # the prompt drawn again after it
    read = shown.getvalue()
    screen = pyte.Screen(columns, rows)
    pyte.Stream(screen).feed(read[: len(read) - len(child.buffer)])  # up to that prompt
    display = [line.rstrip() for line in screen.display]
    written = [line for line in display if line]
    assert written[-1] == "@dev in #deploys> /depl"
    boxes, box = [], None
    for line in display:
        if line.startswith("┌"):
            box = [line]
        elif box is not None:
            assert line.startswith(("│ ", "└")), display  # a wrapped line keeps its border
            box.append(line)
            if line.startswith("└"):
                boxes.append(box)
                box = None
    roots = [b for b in boxes if b[0] == "┌ #deploys message 1 edited"]
    status = " ".join(line[2:] for line in roots[-1][2:-1])
    assert re.fullmatch(
        r"Status: ✅ live \| Ref: `main` \(default branch\) \| Requested by: @dev \| "
        r"Provider: sandbox \| Deployment: `sbx-\w+` \| URL: https://web\.sandbox\.deploybot\.dev",
        status,
    ), status
    assert len(roots[-1]) > 4  # it did wrap
    child.sendcontrol("u")
    child.sendline("/quit")
    child.expect(pexpect.EOF)


@pytest.mark.slow
def test_piped_input_reads_as_a_transcript(tmp_path: Path) -> None:
    """Not a terminal (a pipe, CI): each line read is printed after its prompt, and lines are
    not wrapped whatever COLUMNS says."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DEPLOYBOT_"))}
    done = subprocess.run(
        [sys.executable, "-m", "bot", "console"],
        input="/as bob\n\n/as lead\n/quit\n",
        capture_output=True,
        text=True,
        cwd=str(tmp_path),
        env=base | {"COLUMNS": "40"},
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    said = done.stdout.splitlines()
    at = said.index("@dev in #deploys> /as bob")
    assert said[at:] == [
        "@dev in #deploys> /as bob",
        "There is nobody called bob here. Type /as and one of: dev, lead, oncall.",
        "@dev in #deploys>",
        "@dev in #deploys> /as lead",
        "You are @lead.",
        "@lead in #deploys> /quit",
    ]


def _piped(tmp_path: Path, lines: str) -> list[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DEPLOYBOT_"))}
    done = subprocess.run(
        [sys.executable, "-m", "bot", "console"],
        input=lines,
        capture_output=True,
        text=True,
        cwd=str(tmp_path),
        env=base | {"DEPLOYBOT_POLL_INTERVAL": "0.2"},
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


def _in_order(said: list[str], *wanted: str) -> None:
    at = 0
    for text in wanted:
        found = next((i for i in range(at, len(said)) if text in said[i]), None)
        assert found is not None, f"{text!r} not after line {at}:\n" + "\n".join(said)
        at = found + 1


@pytest.mark.slow
def test_piped_lines_each_wait_for_what_the_one_before_started(tmp_path: Path) -> None:
    """The README's example, piped: each line runs once the one before it has come to rest, so
    the button the approver presses is there, and every answer follows its own line."""
    said = _piped(tmp_path, "/deploy docs\n/as lead\n1\n")
    _in_order(
        said,
        "@dev in #deploys> /deploy docs",
        "docs is built and not live yet",
        "@lead: publish it?",
        "@dev in #deploys> /as lead",
        "@lead in #deploys> 1",
        "Approved by @lead",
        "docs is live at",
    )
    assert not [line for line in said if "There is no button" in line]

    said = _piped(tmp_path, "/deploy lock web why\n/deploy web\n/deploy unlock web\n")
    _in_order(
        said,
        "@dev in #deploys> /deploy lock web why",
        "web is locked by @dev: why",
        "@dev in #deploys> /deploy web",
        "`web` is locked by you: why",
        "@dev in #deploys> /deploy unlock web",
        "web is unlocked by @dev",
    )
    assert not [line for line in said if "Nothing to unlock" in line or "== Deploy web" in line]


def test_every_emoji_the_bot_says_shows_as_a_glyph() -> None:
    """Each `:shortcode:` in the bot's messages reads as the emoji Slack shows, none as text."""
    bot = Path(__file__).parents[2] / "bot"
    said = {
        code
        for path in bot.rglob("*.py")
        if path.name != "render.py"  # the console's renderer, which speaks of shortcodes
        for code in re.findall(r"(?<![\w:]):([a-z][a-z0-9_]+):(?![\w:])", path.read_text("utf-8"))
    }
    assert {"house", "information_source", "octagonal_sign", "hammer_and_wrench"} <= said
    for code in sorted(said):
        shown = mrkdwn(f"x :{code}: y", name=str)
        assert f":{code}:" not in shown, code
