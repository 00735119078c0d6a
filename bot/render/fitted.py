"""Block Kit pieces cut to Slack's limits (bot/render/slack_limits.py): every builder makes its
sections, headers, buttons, context lines and dialogs here, so none can exceed them. Pure.

Text given as mrkdwn is expected escaped already (what Slack receives is what is counted);
plain_text (headers, buttons, titles) is shown as written.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from slack_sdk.models.blocks import (
    Block,
    ButtonElement,
    ConfirmObject,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)

from bot.render.slack_limits import (
    BUTTON_TEXT,
    BUTTON_VALUE,
    CONFIRM_BUTTON,
    CONFIRM_TEXT,
    CONFIRM_TITLE,
    CONTEXT_ELEMENTS,
    FIELD_TEXT,
    HEADER_TEXT,
    SECTION_FIELDS,
    SECTION_TEXT,
    fit,
    fit_plain,
)


def section(text: str) -> SectionBlock:
    """One mrkdwn section, cut to Slack's 3,000 characters (Slack refuses an empty one)."""
    return SectionBlock(text=MarkdownTextObject(text=fit(text, SECTION_TEXT) or " "))


def fields(texts: Sequence[str]) -> SectionBlock:
    """A section of side-by-side fields: at most 10, each cut to 2,000 characters."""
    return SectionBlock(
        fields=[MarkdownTextObject(text=fit(t, FIELD_TEXT) or " ") for t in texts[:SECTION_FIELDS]]
    )


def header(text: str) -> HeaderBlock:
    return HeaderBlock(text=fit_plain(text, HEADER_TEXT))


def context(texts: Sequence[str]) -> ContextBlock:
    """A context line of mrkdwn elements: at most 10; the tenth says how many more there are."""
    shown = list(texts)
    if len(shown) > CONTEXT_ELEMENTS:
        rest = len(shown) - CONTEXT_ELEMENTS + 1
        shown = [*shown[: CONTEXT_ELEMENTS - 1], f"and {rest} more"]
    return ContextBlock(
        elements=[MarkdownTextObject(text=fit(t, SECTION_TEXT) or " ") for t in shown]
    )


def button(
    text: str,
    *,
    action_id: str,
    value: str,
    style: str | None = None,
    confirm: ConfirmObject | None = None,
) -> ButtonElement:
    """A button: its label cut to 75 characters. Its value is ours (an id, a token) and must
    fit whole: a cut value would name something else."""
    if len(value) > BUTTON_VALUE:
        raise ValueError(f"a button's value is {len(value)} characters, over {BUTTON_VALUE}")
    return ButtonElement(
        text=fit_plain(text, BUTTON_TEXT),
        action_id=action_id,
        value=value,
        style=style,
        confirm=confirm,
    )


def confirm(title: str, text: str, *, yes: str, no: str = "Cancel") -> ConfirmObject:
    """A confirmation dialog: its text is plain_text, the type Slack documents for it."""
    return ConfirmObject(
        title=fit_plain(title, CONFIRM_TITLE),
        text=PlainTextObject(text=fit_plain(text, CONFIRM_TEXT), emoji=True),
        confirm=fit_plain(yes, CONFIRM_BUTTON),
        deny=fit_plain(no, CONFIRM_BUTTON),
    )


def sections(lines: Iterable[str], *, most: int) -> list[SectionBlock]:
    """Lines packed into as few sections as fit; at most `most` sections, the last saying how
    many lines did not fit."""
    chunks: list[list[str]] = [[]]
    for line in (fit(line, SECTION_TEXT) for line in lines):
        size = sum(len(x) + 1 for x in chunks[-1]) + len(line)
        if chunks[-1] and size > SECTION_TEXT:
            chunks.append([])
        chunks[-1].append(line)
    if len(chunks) > most:
        left_out = sum(len(chunk) for chunk in chunks[most - 1 :])
        chunks = [*chunks[: most - 1], [f"… and {left_out} more not shown"]]
    return [section("\n".join(chunk)) for chunk in chunks if chunk]


def capped(blocks: Sequence[Block], most: int, more: Callable[[int], Block]) -> list[Block]:
    """At most `most` blocks: past it, the last one kept is `more(n)`, saying n were left out."""
    if len(blocks) <= most:
        return list(blocks)
    return [*blocks[: most - 1], more(len(blocks) - most + 1)]
