"""Block Kit as terminal text. Pure: a message's blocks in, lines out, buttons numbered."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import emoji

from bot.mrkdwn import unescape

# Slack's names for emoji that the emoji package (which reads the rest) knows by other names.
SLACK_NAMES = {":octagonal_sign:": ":stop_sign:"}


@dataclass(frozen=True)
class Button:
    label: str
    action_id: str
    value: str
    confirm: str | None  # the confirm dialog's title and text, when the button asks first


Link = Callable[[str, str | None], str]  # a link's URL and its label, as printed


def bare(url: str, label: str | None) -> str:
    return label or url


def mrkdwn(text: str, name: Callable[[str], str], link: Link = bare) -> str:
    """Slack's markup, read as a person would: names for ids, emoji, links as `link` says."""
    text = re.sub(r"<@(\w+)>", lambda m: "@" + name(m[1]), text)
    text = re.sub(r"<#(\w+)>", lambda m: "#" + name(m[1]), text)
    text = re.sub(r"<(https?://[^|>]+)(?:\|([^>]+))?>", lambda m: link(m[1], m[2]), text)
    text = re.sub(r"(?<![\w*])\*([^*\n]+)\*(?![\w*])", r"\1", text)  # *bold* reads as plain
    return unescape(_emoji(text))


def _emoji(text: str) -> str:
    """Slack's `:shortcodes:` as the glyphs Slack shows; one whose text form a terminal draws a
    cell wide (it ends in the emoji selector, U+FE0F) gets a space, so the words after it line
    up."""
    for slack, name in SLACK_NAMES.items():
        text = text.replace(slack, name)
    return emoji.emojize(text, language="alias").replace("\ufe0f", "\ufe0f ")


def lines(
    blocks: list[dict[str, Any]],
    text: str,
    name: Callable[[str], str],
    number: Callable[[Button], int],
    link: Link = bare,
) -> tuple[list[str], list[tuple[int, Button]]]:
    """The lines to print for a message, each row of buttons where its block stands (a Home tab
    has one per app), and the buttons with the numbers `number` gave them."""
    out: list[str] = []
    buttons: list[tuple[int, Button]] = []
    for block in blocks or [{"type": "section", "text": {"text": text}}]:
        kind = block.get("type")
        if kind == "header":
            out.append(f"== {block['text']['text']} ==")
        elif kind == "section":
            if "text" in block:
                out.extend(mrkdwn(block["text"]["text"], name, link).splitlines())
            fields = [
                mrkdwn(f["text"], name, link).replace("\n", ": ", 1)
                for f in block.get("fields", [])
            ]
            if fields:
                out.append(" | ".join(fields))
        elif kind == "context":
            said = " ".join(mrkdwn(e.get("text", ""), name, link) for e in block["elements"])
            out.extend("  " + line for line in said.splitlines())
        elif kind == "actions":
            found = [_button(element, name) for element in block["elements"]]
            row = [(number(button), button) for button in found]
            out.append("   ".join(f"[{n}] {b.label}" for n, b in row))
            buttons += row
    return out, buttons


def _button(element: dict[str, Any], name: Callable[[str], str]) -> Button:
    confirm = element.get("confirm") or {}
    asked = [mrkdwn(confirm[part]["text"], name) for part in ("title", "text") if part in confirm]
    return Button(
        element["text"]["text"],
        element["action_id"],
        element.get("value", ""),
        " ".join(asked) or None,
    )
