"""Text cut to Slack's limits as Slack counts it: after escaping, at a boundary, never inside an
entity, a mention or a link, closing the code it cut open."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from bot.models import LogLine
from bot.mrkdwn import escape
from bot.render import fitted
from bot.render.excerpt import log_block
from bot.render.slack_limits import FENCE, fit, fit_plain, fit_user

ATOMS = re.compile(r"&(?:amp|lt|gt);|<[@#!][^<>\n]*>|<https?://[^<>\n]*>")
PIECES = st.sampled_from(
    ["a", "word ", "\n", "&", "<", ">", "&amp;", "<@U0LEAD>", "<#C0DEPLOYS>", "`", FENCE, "é", "🚀"]
)
MARKUP = st.lists(PIECES, max_size=400).map("".join)


def _atoms(text: str) -> set[tuple[int, int]]:
    return {m.span() for m in ATOMS.finditer(text)}


def test_escaping_counts_toward_the_limit() -> None:
    """`<` is four characters once escaped: 1,000 of them do not fit in 3,000."""
    cut = fit_user("<" * 1000, 3000)
    assert len(cut) <= 3000
    assert cut.endswith("&lt;…")


def test_a_cut_never_splits_a_mention_or_a_link() -> None:
    text = "ask " + " ".join(["<@U0LEAD>", "<https://x.example/a|the plan>"] * 20)
    cut = fit(text, 60)
    assert len(cut) <= 60
    assert cut.count("<") == cut.count(">")


def test_a_cut_code_block_is_closed() -> None:
    text = FENCE + "\n" + "\n".join(f"line {i}" for i in range(500)) + "\n" + FENCE
    cut = fit(text, 200)
    assert len(cut) <= 200
    assert cut.count(FENCE) == 2
    assert cut.endswith("…\n" + FENCE)


def test_plain_text_is_cut_at_a_word() -> None:
    assert fit_plain("Roll back the checkout service?", 24) == "Roll back the checkout…"


@given(MARKUP, st.integers(min_value=1, max_value=600))
def test_any_markup_fits_and_keeps_its_atoms_whole(text: str, limit: int) -> None:
    cut = fit(text, limit)
    assert len(cut) <= limit
    whole = _atoms(text)
    for start, end in _atoms(cut.removesuffix("…")):
        if end <= len(cut) - 1:
            assert (start, end) in whole or cut[start:end] in text


@given(MARKUP, st.integers(min_value=20, max_value=600))
def test_any_cut_closes_its_code_blocks(text: str, limit: int) -> None:
    cut = fit(text, limit)
    if cut != text and text.count(FENCE) % 2 == 0:
        assert cut.count(FENCE) % 2 == 0


def test_a_long_trace_keeps_where_it_failed_and_says_what_was_left_out() -> None:
    lines = [LogLine(message=f"step {i} <ok> & fine") for i in range(50)]
    lines.append(LogLine(message="Error: <Props & State> is not assignable", failed=True))
    lines += [LogLine(message=f"    at <anonymous> ({i}) && more", failed=True) for i in range(300)]
    block = log_block(lines, room=3000) or ""
    assert len(block) <= 3000
    assert block.startswith(FENCE + "\n")
    assert block.endswith("\n" + FENCE)
    assert escape("Error: <Props & State> is not assignable") in block
    assert "at &lt;anonymous&gt; (299)" in block  # the last line, too
    assert "lines left out" in block


def test_thirty_apps_of_fifty_approvers_are_all_listed() -> None:
    """`/deploy apps`: lines packed into sections of at most 3,000 characters, none lost."""
    approvers = ", ".join(f"<@U0LEAD{i:04d}>" for i in range(50))
    lines = [f"• *app{i:02d}* (nometria): approval by {approvers}" for i in range(30)]
    shown = [s.to_dict()["text"]["text"] for s in fitted.sections(lines, most=50)]
    assert all(len(text) <= 3000 for text in shown)
    assert all(f"*app{i:02d}*" in "\n".join(shown) for i in range(30))
    assert "<@U0LEAD0049>" in shown[-1]


def test_lines_past_the_blocks_a_message_holds_are_counted() -> None:
    lines = ["x" * 2000] * 60
    shown = fitted.sections(lines, most=50)
    assert len(shown) == 50
    assert shown[-1].to_dict()["text"]["text"] == "… and 11 more not shown"
