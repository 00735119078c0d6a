"""Slack's Block Kit rules, checked the way Slack's API checks them, written from its docs pages
(not from the bot's builders, nor from slack_sdk): the fake Slack refuses what breaks them, and
the property tests hold every builder's payload to them.

Pages (docs.slack.dev): reference/block-kit/blocks ("up to 50 blocks in each message, and 100
blocks in modals or Home tabs"); .../blocks/section-block (text 1-3000, fields at most 10 of at
most 2000); .../blocks/header-block (plain_text, 150); .../blocks/context-block (at most 10
elements); .../blocks/actions-block (at most 25 elements); .../blocks/input-block (label
plain_text 2000); .../block-elements/button-element (text plain_text 75, value 2000, url 3000,
action_id 255); .../composition-objects/text-object (1-3000); .../composition-objects/
confirmation-dialog-object (title 100, text 300, confirm and deny 30, all plain_text);
.../block-elements/plain-text-input-element (placeholder 150, max_length up to 3000);
reference/views/modal-views (title, submit and close plain_text of 24, private_metadata 3000,
callback_id 255, submit required with an input block); reference/views/home-tab-views. A
message's text: api.slack.com/changelog/2018-04-truncating-really-long-messages (40,000).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

MESSAGE_BLOCKS = 50
VIEW_BLOCKS = 100
MESSAGE_TEXT = 40_000
TEXT_OBJECT = 3000
SECTION_TEXT = 3000
SECTION_FIELDS = 10
FIELD_TEXT = 2000
HEADER_TEXT = 150
CONTEXT_ELEMENTS = 10
ACTIONS_ELEMENTS = 25
INPUT_LABEL = 2000
BUTTON_TEXT = 75
BUTTON_VALUE = 2000
BUTTON_URL = 3000
ACTION_ID = 255
BLOCK_ID = 255
CONFIRM_TITLE = 100
CONFIRM_TEXT = 300
CONFIRM_BUTTON = 30
PLACEHOLDER = 150
INPUT_MAX_LENGTH = 3000
MODAL_TITLE = 24
MODAL_BUTTON = 24
PRIVATE_METADATA = 3000
CALLBACK_ID = 255

Json = dict[str, Any]


def message_errors(text: Any, blocks: Any) -> tuple[str, list[str]] | None:
    """None if Slack takes this message; else its error code and what is wrong."""
    if len(str(text or "")) > MESSAGE_TEXT:
        return "msg_too_long", [f"text must be at most {MESSAGE_TEXT} characters"]
    errors = block_errors(blocks or [], most=MESSAGE_BLOCKS)
    return ("invalid_blocks", errors) if errors else None


def view_errors(view: Any) -> list[str]:
    """What is wrong with a Home tab or a modal view (views.publish, views.open)."""
    if not isinstance(view, dict) or view.get("type") not in ("home", "modal"):
        return ["type must be home or modal"]
    errors = block_errors(view.get("blocks") or [], most=VIEW_BLOCKS)
    if len(str(view.get("private_metadata") or "")) > PRIVATE_METADATA:
        errors.append(f"private_metadata must be at most {PRIVATE_METADATA} characters")
    if len(str(view.get("callback_id") or "")) > CALLBACK_ID:
        errors.append(f"callback_id must be at most {CALLBACK_ID} characters")
    if view["type"] == "modal":
        errors += _plain(view.get("title"), MODAL_TITLE, "title", required=True)
        errors += _plain(view.get("submit"), MODAL_BUTTON, "submit")
        errors += _plain(view.get("close"), MODAL_BUTTON, "close")
        inputs = any(isinstance(b, dict) and b.get("type") == "input" for b in view["blocks"])
        if inputs and not view.get("submit"):
            errors.append("submit is required with an input block")
    return errors


def block_errors(blocks: Any, *, most: int = MESSAGE_BLOCKS) -> list[str]:
    if not isinstance(blocks, list):
        return ["must be an array [json-pointer:/blocks]"]
    errors: list[str] = []
    if len(blocks) > most:
        errors.append(f"no more than {most} items allowed [json-pointer:/blocks]")
    block_ids: set[str] = set()
    for i, block in enumerate(blocks):
        where = f"[json-pointer:/blocks/{i}]"
        if not isinstance(block, dict) or not isinstance(block.get("type"), str):
            errors.append(f"missing required field: type {where}")
            continue
        block_id = block.get("block_id")
        if block_id is not None:
            if block_id in block_ids:
                errors.append(f"duplicate block_id {where}")
            if len(str(block_id)) > BLOCK_ID:
                errors.append(f"block_id must be at most {BLOCK_ID} characters {where}")
            block_ids.add(block_id)
        check = _BLOCKS.get(block["type"])
        errors.extend(f"{e} {where}" for e in (check(block) if check else ()))
    return errors


def _section(block: Json) -> Iterator[str]:
    text, fields = block.get("text"), block.get("fields") or []
    if text is None and not fields:
        yield "must provide either text or fields"
    if text is not None:
        yield from _text(text, SECTION_TEXT, "text")
    if len(fields) > SECTION_FIELDS:
        yield f"no more than {SECTION_FIELDS} items allowed /fields"
    for j, item in enumerate(fields):
        yield from _text(item, FIELD_TEXT, f"fields/{j}")
    if isinstance(block.get("accessory"), dict):
        yield from _element(block["accessory"], "accessory")


def _header(block: Json) -> Iterator[str]:
    yield from _plain(block.get("text"), HEADER_TEXT, "text", required=True)


def _context(block: Json) -> Iterator[str]:
    elements = block.get("elements") or []
    if not elements or len(elements) > CONTEXT_ELEMENTS:
        yield f"must have 1 to {CONTEXT_ELEMENTS} elements /elements"
    for j, element in enumerate(elements):
        if isinstance(element, dict) and element.get("type") in ("plain_text", "mrkdwn"):
            yield from _text(element, TEXT_OBJECT, f"elements/{j}")


def _actions(block: Json) -> Iterator[str]:
    elements = block.get("elements") or []
    if not elements or len(elements) > ACTIONS_ELEMENTS:
        yield f"must have 1 to {ACTIONS_ELEMENTS} elements /elements"
    ids = [e.get("action_id") for e in elements if isinstance(e, dict) and e.get("action_id")]
    if len(ids) != len(set(ids)):
        yield "duplicate action_id /elements"
    for j, element in enumerate(elements):
        yield from _element(element, f"elements/{j}")


def _input(block: Json) -> Iterator[str]:
    yield from _plain(block.get("label"), INPUT_LABEL, "label", required=True)
    element = block.get("element")
    if not isinstance(element, dict):
        yield "missing required field: element"
        return
    yield from _element(element, "element")


_BLOCKS: dict[str, Callable[[Json], Iterator[str]]] = {
    "section": _section,
    "header": _header,
    "context": _context,
    "actions": _actions,
    "input": _input,
}


def _element(element: Any, where: str) -> Iterator[str]:
    if not isinstance(element, dict) or not isinstance(element.get("type"), str):
        yield f"missing required field: type /{where}"
        return
    if len(str(element.get("action_id") or "")) > ACTION_ID:
        yield f"action_id must be at most {ACTION_ID} characters /{where}"
    if element["type"] == "button":
        yield from _plain(element.get("text"), BUTTON_TEXT, f"{where}/text", required=True)
        if len(str(element.get("value") or "")) > BUTTON_VALUE:
            yield f"value must be at most {BUTTON_VALUE} characters /{where}"
        if len(str(element.get("url") or "")) > BUTTON_URL:
            yield f"url must be at most {BUTTON_URL} characters /{where}"
    if element["type"] == "plain_text_input":
        yield from _plain(element.get("placeholder"), PLACEHOLDER, f"{where}/placeholder")
        if int(element.get("max_length") or 0) > INPUT_MAX_LENGTH:
            yield f"max_length must be at most {INPUT_MAX_LENGTH} /{where}"
    if "confirm" in element:
        yield from _confirm(element["confirm"], f"{where}/confirm")


def _confirm(dialog: Any, where: str) -> Iterator[str]:
    if not isinstance(dialog, dict):
        yield f"must be an object /{where}"
        return
    yield from _plain(dialog.get("title"), CONFIRM_TITLE, f"{where}/title", required=True)
    yield from _plain(dialog.get("text"), CONFIRM_TEXT, f"{where}/text", required=True)
    yield from _plain(dialog.get("confirm"), CONFIRM_BUTTON, f"{where}/confirm", required=True)
    yield from _plain(dialog.get("deny"), CONFIRM_BUTTON, f"{where}/deny", required=True)


def _text(text: Any, most: int, where: str) -> Iterator[str]:
    if not isinstance(text, dict) or text.get("type") not in ("plain_text", "mrkdwn"):
        yield f"must be a text object /{where}"
        return
    value = text.get("text")
    if not isinstance(value, str) or not value:
        yield f"must be more than 0 characters /{where}"
    elif len(value) > most:
        yield f"must be less than {most + 1} characters /{where}"


def _plain(text: Any, most: int, where: str, *, required: bool = False) -> list[str]:
    if text is None:
        return [f"missing required field /{where}"] if required else []
    if isinstance(text, dict) and text.get("type") != "plain_text":
        return [f"must be plain_text /{where}"]
    return list(_text(text, most, where))
