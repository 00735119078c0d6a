"""Block Kit as terminal text. Pure: a message's blocks in, lines out, buttons numbered."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from bot.mrkdwn import unescape

EMOJI = {
    ":hourglass_flowing_sand:": "⏳",
    ":hammer_and_wrench:": "🛠 ",
    ":rocket:": "🚀",
    ":package:": "📦",
    ":white_check_mark:": "✅",
    ":x:": "❌",
    ":octagonal_sign:": "🛑",
    ":rewind:": "⏪",
    ":raised_hand:": "✋",
    ":warning:": "⚠️ ",
    ":rotating_light:": "🚨",
    ":lock:": "🔒",
    ":unlock:": "🔓",
    ":no_entry:": "⛔",
    ":wastebasket:": "🗑 ",
    ":hourglass:": "⌛",
    ":arrows_counterclockwise:": "🔄",
    ":gear:": "⚙️ ",
    ":eyes:": "👀",
    ":bar_chart:": "📊",
    ":cold_face:": "🥶",
    ":calendar:": "📅",
    ":wave:": "👋",
    ":arrow_forward:": "▶️ ",
}


@dataclass(frozen=True)
class Button:
    label: str
    action_id: str
    value: str
    confirm: str | None  # the confirm dialog's title and text, when the button asks first


def mrkdwn(text: str, name: Callable[[str], str]) -> str:
    """Slack's markup, read as a person would: names for ids, emoji, bare links."""
    text = re.sub(r"<@(\w+)>", lambda m: "@" + name(m[1]), text)
    text = re.sub(r"<#(\w+)>", lambda m: "#" + name(m[1]), text)
    text = re.sub(r"<(https?://[^|>]+)(?:\|([^>]+))?>", lambda m: m[2] or m[1], text)
    text = re.sub(r"(?<![\w*])\*([^*\n]+)\*(?![\w*])", r"\1", text)  # *bold* reads as plain
    for code, glyph in EMOJI.items():
        text = text.replace(code, glyph)
    return unescape(text)


def lines(
    blocks: list[dict[str, Any]], text: str, name: Callable[[str], str], numbers: Iterator[int]
) -> tuple[list[str], list[tuple[int, Button]]]:
    """The lines to print for a message, each row of buttons where its block stands (a Home tab
    has one per app), and the buttons with the numbers `numbers` gave them."""
    out: list[str] = []
    buttons: list[tuple[int, Button]] = []
    for block in blocks or [{"type": "section", "text": {"text": text}}]:
        kind = block.get("type")
        if kind == "header":
            out.append(f"== {block['text']['text']} ==")
        elif kind == "section":
            if "text" in block:
                out.extend(mrkdwn(block["text"]["text"], name).splitlines())
            fields = [
                mrkdwn(f["text"], name).replace("\n", ": ", 1) for f in block.get("fields", [])
            ]
            if fields:
                out.append(" | ".join(fields))
        elif kind == "context":
            said = " ".join(mrkdwn(e.get("text", ""), name) for e in block["elements"])
            out.extend("  " + line for line in said.splitlines())
        elif kind == "actions":
            row = [(next(numbers), _button(element, name)) for element in block["elements"]]
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
