"""Messages are pure values: the Block Kit JSON Slack gets, compared as `.to_dict()`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.models import Deployment, Status
from bot.render import blocks, history_blocks
from bot.render.blocks import Card

LIVE = Card(
    app="web",
    provider="stormkit",
    requester="U0DEV",
    ref="main",
    status=Status.LIVE,
    deployment_id="42",
    url="https://web.example",
)


def _mrkdwn(text: str) -> dict[str, str]:
    return {"type": "mrkdwn", "text": text}


def test_a_root_shows_status_ref_requester_provider_deployment_and_url() -> None:
    """The root message's header and fields, and its fallback text."""
    message = blocks.root(LIVE)
    assert message.text == ":white_check_mark: Deploy web (main): live"
    assert message.to_dicts() == [
        {"type": "header", "text": {"type": "plain_text", "text": "Deploy web", "emoji": True}},
        {
            "type": "section",
            "fields": [
                _mrkdwn("*Status*\n:white_check_mark: live"),
                _mrkdwn("*Ref*\n`main`"),
                _mrkdwn("*Requested by*\n<@U0DEV>"),
                _mrkdwn("*Provider*\nstormkit"),
                _mrkdwn("*Deployment*\n`42`"),
                _mrkdwn("*URL*\n<https://web.example>"),
            ],
        },
    ]


def test_a_root_waiting_for_approval_names_the_approvers() -> None:
    """While an approval is pending the status field says who may decide."""
    message = blocks.root(LIVE.but(status=Status.READY, waiting_for=("U0LEAD",), url=None))
    assert message.text == ":package: Deploy web (main): waiting for approval"
    fields = message.to_dicts()[1]["fields"]
    assert fields[0] == _mrkdwn("*Status*\n:raised_hand: waiting for approval by <@U0LEAD>")


def test_an_approval_prompt_carries_the_row_id_on_both_buttons() -> None:
    """Approve (primary) and Discard (danger) name the tracked row they decide."""
    message = blocks.approval_prompt("publish it?", 7, approve_label="Approve & publish")
    assert message.text == "publish it?"
    assert message.to_dicts() == [
        {"type": "section", "text": _mrkdwn("publish it?")},
        {
            "type": "actions",
            "block_id": "approval-7",
            "elements": [
                {
                    "type": "button",
                    "action_id": blocks.APPROVE,
                    "text": {"type": "plain_text", "text": "Approve & publish", "emoji": True},
                    "value": "7",
                    "style": "primary",
                },
                {
                    "type": "button",
                    "action_id": blocks.DISCARD,
                    "text": {"type": "plain_text", "text": "Discard", "emoji": True},
                    "value": "7",
                    "style": "danger",
                },
            ],
        },
    ]


def test_a_failure_shows_the_reason_and_the_log_excerpt_as_code() -> None:
    """The provider's reason in the text; the excerpt in a code block of its own."""
    excerpt = "```\nx\n```"
    message = blocks.failed("web", Deployment(id="9", status=Status.FAILED, error="boom"), excerpt)
    assert message.text == ":x: *web failed*: boom"
    assert message.to_dicts() == [
        {"type": "section", "text": _mrkdwn(":x: *web failed*: boom")},
        {"type": "section", "text": _mrkdwn("```\nx\n```")},
    ]


def test_a_long_text_is_clipped_to_slacks_section_limit() -> None:
    """A note never exceeds 3,000 characters, which Slack would refuse."""
    [section] = blocks.note("a" * 5000).to_dicts()
    assert blocks.SECTION_LIMIT - 10 < len(section["text"]["text"]) <= blocks.SECTION_LIMIT
    assert section["text"]["text"].endswith("…")


def test_a_rollback_confirmation_says_from_and_to_and_asks_why_before_acting() -> None:
    """From and to with their refs and ages; the button opens the form asking why."""
    now = datetime(2026, 1, 1, tzinfo=UTC)
    live = Deployment(id="b", status=Status.LIVE, ref="main", created_at=now)
    older = Deployment(id="a", status=Status.ROLLED_BACK, created_at=now - timedelta(hours=3))
    message = history_blocks.rollback_confirm("web", live, older, "{}", now=now)
    assert message.text == "Roll back web from b to a?"
    section, actions = message.to_dicts()
    assert section["text"]["text"] == (
        ":rewind: *Roll back web?*\n*From* `b` (main) just now\n*To* `a` 3h ago"
    )
    [button] = actions["elements"]
    assert button["action_id"] == blocks.ROLLBACK
    assert button["text"]["text"] == "Roll back…"
    assert "confirm" not in button  # the form asking why is the confirmation


def test_a_deploy_in_line_shows_its_place_and_a_cancel_button() -> None:
    card = Card(app="web", provider="stormkit", requester="U0DEV", ref="main", status=Status.QUEUED)
    next_up = blocks.root(card.but(place=1))
    assert next_up.text == (
        ":hourglass_flowing_sand: Deploy web (main): "
        "waiting: next in line, starts when the deployment in flight ends"
    )
    [*_, actions] = next_up.to_dicts()
    assert actions["elements"] == [
        {
            "type": "button",
            "action_id": blocks.CANCEL,
            "text": {"type": "plain_text", "text": "Cancel", "emoji": True},
            "value": blocks.CANCEL_THIS,
        }
    ]
    assert "number 3 in line, after the deployment in flight and 2 other deploys" in (
        blocks.root(card.but(place=3)).text
    )
    assert "1 other deploy" in blocks.waiting_text(2)
    started = blocks.root(card)  # out of the line: no button
    assert all(b["type"] != "actions" for b in started.to_dicts())


def test_the_rollback_form_asks_why_and_carries_the_plan() -> None:
    form = history_blocks.rollback_reason(
        "a-very-long-app-name-indeed", "d1", "d0", '{"plan": "x"}'
    )
    shown = form.to_dict()
    assert shown["callback_id"] == history_blocks.ROLLBACK_REASON
    assert shown["private_metadata"] == '{"plan": "x"}'
    assert shown["title"]["text"] == "Roll back a-very-long-a…"  # Slack's 24 characters
    assert shown["submit"]["text"] == "Roll back"
    [_, field] = shown["blocks"]
    assert field["block_id"] == history_blocks.REASON_BLOCK
    assert field["element"]["action_id"] == history_blocks.REASON_INPUT
    assert field["element"]["max_length"] == 300
    assert "`d1` to `d0`" in shown["blocks"][0]["text"]["text"]


def test_failure_dm_escapes_the_failing_line_and_links_the_thread() -> None:
    message = blocks.failure_dm(
        "web", "dep_1", "x < y && <@U1>", channel="C0DEPLOYS", link="https://t/archives/C/p1"
    )
    shown = str([block.to_dict() for block in message.blocks])
    assert "x &lt; y &amp;&amp; &lt;@U1&gt;" in shown
    assert "<https://t/archives/C/p1|its thread> in <#C0DEPLOYS>" in message.text
    bare = blocks.failure_dm("web", "dep_1", None, channel="C0DEPLOYS", link=None)
    assert len(bare.blocks) == 1
    assert "See its thread in <#C0DEPLOYS>." in bare.text


def test_a_failure_whose_reason_says_failed_says_it_once() -> None:
    """The provider's words kept whole, not "web failed: Build failed: ..."."""
    error = "Build failed: Cannot find module './payments'"
    message = blocks.failed("web", Deployment(id="9", status=Status.FAILED, error=error), None)
    assert message.text == ":x: *web*: Build failed: Cannot find module './payments'"
