"""Slack's limits, and text cut to fit them as Slack counts it: after escaping. Pure.

The one module that knows the numbers; every builder cuts its text here. A cut falls at a line
or word boundary, never inside an entity (`&amp;`) or Slack's `<...>` markup (a mention, a
channel, a link), and closes a code block or inline code it cut open.
"""

from __future__ import annotations

import re
from bisect import bisect_right

from bot.mrkdwn import escape

# docs.slack.dev/reference/block-kit/blocks/section-block: "maximum length is 3000 characters";
# fields: "Maximum number of items is 10. Maximum length for the text in each item is 2000".
SECTION_TEXT = 3000
SECTION_FIELDS = 10
FIELD_TEXT = 2000
# docs.slack.dev/reference/block-kit/blocks/header-block: plain_text, "Maximum length ... 150".
HEADER_TEXT = 150
# docs.slack.dev/reference/block-kit/block-elements/button-element: text "Maximum length for
# the text in this field is 75 characters"; value "Maximum length is 2000 characters";
# action_id 255 (block_id too: every block page says "Maximum length for this field is 255").
BUTTON_TEXT = 75
BUTTON_VALUE = 2000
ACTION_ID = 255
BLOCK_ID = 255
# docs.slack.dev/reference/block-kit/blocks/context-block: elements "Maximum number of items
# is 10". docs.slack.dev/reference/block-kit/blocks/actions-block: "up to 25 elements".
CONTEXT_ELEMENTS = 10
ACTIONS_ELEMENTS = 25
# docs.slack.dev/reference/block-kit/blocks: "You can include up to 50 blocks in each message,
# and 100 blocks in modals or Home tabs."
MESSAGE_BLOCKS = 50
VIEW_BLOCKS = 100
# docs.slack.dev/reference/views/modal-views: title, submit and close are plain_text "with a
# max length of 24 characters"; private_metadata "Max length of 3000 characters".
MODAL_TITLE = 24
MODAL_SUBMIT = 24
MODAL_CLOSE = 24
PRIVATE_METADATA = 3000
# docs.slack.dev/reference/block-kit/composition-objects/confirmation-dialog-object: title 100,
# text (a plain_text object) 300, confirm and deny 30.
CONFIRM_TITLE = 100
CONFIRM_TEXT = 300
CONFIRM_BUTTON = 30
# api.slack.com/changelog/2018-04-truncating-really-long-messages: "The `text` field accepts up
# to 40,000 characters" (longer is truncated; Slack's API answers `msg_too_long` for some).
MESSAGE_TEXT = 40_000

ELLIPSIS = "…"
FENCE = "```"
# What a cut must not split: an entity, or Slack's markup (<@U1>, <#C1>, <!here>, <url|label>).
_ATOMS = re.compile(r"&(?:[a-z]+|#[0-9]+);|<[^<>\n]*>")
_CLOSERS = len("\n" + FENCE + "`")  # the most a cut may add after its ellipsis
_LONGEST_ATOM = 3000  # a link is at most a section long


def fit(text: str, limit: int, *, more: str = ELLIPSIS, close: bool = True) -> str:
    """Mrkdwn, already escaped, cut to `limit` characters if it is longer, ending with `more`.

    The cut is at the last line break, else the last space, in the second half of the room;
    else just before the atom (entity, mention, link) it would split. `close`: a code block or
    inline code the cut left open is closed (not for a line inside a code block).
    """
    if len(text) <= limit:
        return text
    room = limit - len(more) - (_CLOSERS if close else 0)
    if room <= 0:
        return _hard(text, limit)
    end = _boundary(text, room)
    head = text[:end].rstrip(" ")
    return head + more + (_closers(head) if close else "")


def fit_user(text: str, limit: int) -> str:
    """Text a person or a provider wrote, escaped, then cut to `limit` as Slack counts it."""
    return fit(escape(text), limit)


def fit_plain(text: str, limit: int) -> str:
    """plain_text (a header, a button, a title): Slack shows it as written, so it is not
    escaped; cut at a word boundary."""
    if len(text) <= limit:
        return text
    room = limit - len(ELLIPSIS)
    cut = text.rfind(" ", 0, room + 1)
    end = cut if cut > room // 2 else room
    return text[:end].rstrip() + ELLIPSIS


def _boundary(text: str, room: int) -> int:
    spans = _Spans(text, room)
    inside = spans.start_of(room)
    end = inside if inside is not None else room
    for mark in ("\n", " "):
        at = text.rfind(mark, 0, end + 1)
        while at > room // 2 and spans.start_of(at) is not None:
            at = text.rfind(mark, 0, at)
        if at > room // 2:
            return at
    return end


class _Spans:
    """Where the atoms are, up to just past a cut."""

    def __init__(self, text: str, upto: int) -> None:
        # An atom that starts before `upto` may end after it: look a little further.
        found = _ATOMS.finditer(text, 0, min(len(text), upto + _LONGEST_ATOM))
        self._spans = [(m.start(), m.end()) for m in found if m.start() < upto]
        self._starts = [start for start, _ in self._spans]

    def start_of(self, at: int) -> int | None:
        """The start of the atom a cut at `at` would split, if any."""
        i = bisect_right(self._starts, at - 1) - 1
        if i >= 0 and self._spans[i][1] > at:
            return self._spans[i][0]
        return None


def _closers(head: str) -> str:
    """What closes the code a cut left open: a ``` block, or `inline` code on the last line."""
    if head.count(FENCE) % 2:
        return "\n" + FENCE
    last_line = head.rsplit("\n", 1)[-1].replace(FENCE, "")
    return "`" if last_line.count("`") % 2 else ""


def _hard(text: str, limit: int) -> str:
    """A room too small for any care (a limit of a few characters): the first ones."""
    inside = _Spans(text, limit).start_of(limit)
    return text[: limit if inside is None else inside]
