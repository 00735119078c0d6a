"""Block Kit as terminal text. Pure: a message's blocks in, lines out, buttons numbered."""

from __future__ import annotations

import re
from collections.abc import Callable
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
}


@dataclass(frozen=True)
class Button:
    label: str
    action_id: str
    value: str
    confirm: str | None  # the confirm dialog's text, when the button asks first


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
    blocks: list[dict[str, Any]], text: str, name: Callable[[str], str]
) -> tuple[list[str], list[Button]]:
    """The lines to print for a message, and its buttons in the order they are numbered."""
    out: list[str] = []
    buttons: list[Button] = []
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
            out.append("  " + " ".join(mrkdwn(e.get("text", ""), name) for e in block["elements"]))
        elif kind == "actions":
            for element in block["elements"]:
                confirm = (element.get("confirm") or {}).get("text", {}).get("text")
                buttons.append(
                    Button(
                        element["text"]["text"],
                        element["action_id"],
                        element.get("value", ""),
                        confirm,
                    )
                )
    return out, buttons
