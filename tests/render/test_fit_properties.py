"""Every message and view builder, fed adversarial input (long, markup-heavy, unicode, mentions,
40-character refs, 100-character app names, 50 approvers, 30 apps), builds a payload that
slack_sdk validates (`to_dict()` raises otherwise) and that Slack's documented limits accept, as
tests/fakes/block_kit.py checks them from Slack's pages, not from our builders."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from slack_sdk.models.views import View

from bot.dora import Stats
from bot.models import AppLock, Approval, Deployment, Kind, LogLine, Status, Tracked
from bot.mrkdwn import escape
from bot.render import blocks, guide, history_blocks, home_blocks, home_view
from bot.render.blocks import Card, Message
from bot.render.excerpt import log_block
from bot.render.home_blocks import HistoryRow
from bot.render.home_view import AppHome, Linked
from tests.fakes.block_kit import message_errors, view_errors

NOW = datetime(2026, 12, 5, 8, 0, tzinfo=UTC)
PIECES = [
    "<",
    ">",
    "&",
    "&amp;",
    "&lt;",
    "<@U0LEAD>",
    "<!channel>",
    "<https://x.io|a link>",
    "```",
    "`",
    "*",
    "_",
    "~",
    "\n",
    " ",
    "word",
    "é",
    "🚀",
    "\u202e",
    "ｱ",
    "\u0301",
    ":x:",
]

pieces = st.lists(st.sampled_from(PIECES), max_size=60).map("".join)
long = st.builds(lambda p, n: p * n, pieces, st.integers(1, 300))
nasty = st.one_of(st.text(max_size=200), pieces, long)
ref = st.one_of(
    st.none(),
    st.text(min_size=40, max_size=40),
    st.lists(st.sampled_from(PIECES), min_size=40, max_size=40).map("".join),
)
app_name = st.from_regex(r"[a-z][a-z0-9_-]{0,99}", fullmatch=True)
user = st.from_regex(r"U[A-Z0-9]{8,10}", fullmatch=True)
approvers = st.lists(user, min_size=1, max_size=50)
status = st.sampled_from(list(Status))
ident = st.one_of(st.from_regex(r"[a-z0-9_-]{1,40}", fullmatch=True), nasty.filter(bool))
url = st.one_of(st.none(), st.just("https://example.com/" + "p" * 200))

deployment = st.builds(
    Deployment,
    id=ident,
    status=status,
    ref=ref,
    commit_message=st.one_of(st.none(), nasty),
    url=url,
    created_at=st.just(NOW - timedelta(hours=2)),
    error=st.one_of(st.none(), nasty),
)
log_lines = st.lists(
    st.builds(LogLine, message=nasty, failed=st.booleans(), title=st.one_of(st.none(), nasty)),
    max_size=80,
)

SETTINGS = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def accepted(message: Message) -> None:
    """slack_sdk builds it, and Slack's documented limits take it as sent."""
    dicts = message.to_dicts()  # slack_sdk's validation raises here
    text, sent = message.payload()
    assert sent == dicts
    assert message_errors(text, sent) is None, message_errors(text, sent)


def accepted_view(view: View) -> None:
    shown = view.to_dict()  # slack_sdk's validation raises here
    assert view_errors(json.loads(json.dumps(shown))) == []


@SETTINGS
@given(
    app=app_name,
    provider=nasty,
    requester=user,
    ref=ref,
    status=status,
    deployment_id=st.one_of(st.none(), ident),
    url=url,
    note=st.one_of(st.none(), nasty.map(escape)),
    waiting=st.one_of(st.none(), approvers),
    place=st.one_of(st.none(), st.integers(1, 500)),
)
def test_a_root_message_fits(
    *,
    app: str,
    provider: str,
    requester: str,
    ref: str | None,
    status: Status,
    deployment_id: str | None,
    url: str | None,
    note: str | None,
    waiting: list[str] | None,
    place: int | None,
) -> None:
    card = Card(
        app=app,
        provider=provider,
        requester=requester,
        ref=ref,
        status=status,
        deployment_id=deployment_id,
        url=url,
        note=note,
        waiting_for=tuple(waiting) if waiting else None,
        approved_by=requester,
        place=place,
    )
    accepted(blocks.root(card))


@SETTINGS
@given(app=app_name, found=deployment, lines=log_lines, first=st.one_of(st.none(), nasty))
def test_a_failure_its_excerpt_and_its_dm_fit(
    app: str, found: Deployment, lines: list[LogLine], first: str | None
) -> None:
    accepted(blocks.failed(app, found, log_block(lines)))
    link = "https://acme.slack.com/archives/C0DEPLOYS/p1" + "0" * 20
    accepted(blocks.failure_dm(app, found.id, first, channel="C0DEPLOYS", link=link))


@SETTINGS
@given(app=app_name, found=deployment, who=approvers, text=nasty, label=nasty.filter(str.strip))
def test_notes_and_prompts_fit(
    app: str, found: Deployment, who: list[str], text: str, label: str
) -> None:
    mentions = ", ".join(f"<@{a}>" for a in who)
    prompt = f"{blocks.ready_text(app, found)}\n{mentions}: publish it?"
    accepted(blocks.approval_prompt(prompt, 7, approve_label=label))
    accepted(blocks.note(f"{blocks.live_text(app, found)} {escape(text)}"))
    accepted(blocks.note(guide.help_text()))


@SETTINGS
@given(
    app=app_name,
    current=deployment,
    target=deployment,
    deployments=st.lists(deployment, max_size=30),
    audit=st.lists(nasty.map(escape), max_size=30),
    lock=st.one_of(st.none(), nasty.map(escape)),
    locked=st.one_of(st.none(), nasty.map(escape)),
)
def test_rollback_and_status_fit(
    *,
    app: str,
    current: Deployment,
    target: Deployment,
    deployments: list[Deployment],
    audit: list[str],
    lock: str | None,
    locked: str | None,
) -> None:
    value = json.dumps({"app": app, "from": current.id[:40], "to": target.id[:40]})
    accepted(history_blocks.rollback_confirm(app, current, target, value[:2000], now=NOW))
    metadata = json.dumps({"plan": "p" * 64, "channel": "C0DEPLOYS", "response_url": "h" * 200})
    accepted_view(
        history_blocks.rollback_reason(app, current.id, target.id, metadata, locked=locked)
    )
    notes = {d.id: f"by <@U0DEV> {escape(d.id)}" for d in deployments[:5]}
    history = history_blocks.status_message(
        app, deployments, labels={}, notes=notes, now=NOW, lock=lock, audit=audit
    )
    accepted(history)


history_row = st.builds(
    HistoryRow,
    id=st.one_of(st.none(), ident),
    status=status,
    when=st.just(NOW - timedelta(minutes=5)),
    ref=ref,
    who=st.one_of(st.none(), user),
    seconds=st.one_of(st.none(), st.integers(0, 10**6)),
)


@SETTINGS
@given(app=app_name, rows=st.lists(history_row, max_size=200))
def test_history_and_stats_fit(app: str, rows: list[HistoryRow]) -> None:
    accepted(Message("history", tuple(home_blocks.history_list(app, rows, now=NOW))))
    figures = Stats(30, 100, 80, 90, 10, (60.0, 3600.0), 1, (30, 90))
    accepted(Message("stats", tuple(home_blocks.stats(app, figures))))


def _tracked(app: str, who: str, ref: str | None, n: int) -> Tracked:
    return Tracked(
        id=n,
        kind=Kind.DEPLOY,
        app=app,
        provider="nometria",
        deployment_id=f"dep_{n}",
        channel="C0DEPLOYS",
        root_ts=f"1.{n}",
        requester=who,
        ref=ref,
        status=Status.BUILDING,
        approval=Approval.PENDING if n % 2 else None,
        approved_by=None,
        prompt_ts=None,
        failing_since=None,
        outage_noticed=False,
        abandoned=False,
        created_at=NOW - timedelta(minutes=n),
    )


@st.composite
def app_home(draw: Any) -> AppHome:
    name = draw(app_name)
    who = draw(user)
    rows = [_tracked(name, who, draw(ref), n) for n in range(draw(st.integers(0, 40)))]
    return AppHome(
        name=name,
        provider="nometria",
        live=draw(st.one_of(st.none(), deployment)),
        live_by=who,
        in_flight=[Linked(row, None) for row in rows[::2]],
        awaiting_you=[Linked(row, "https://acme.slack.com/x") for row in rows[1::2]],
        lock=draw(
            st.one_of(
                st.none(), st.builds(AppLock, st.just(name), nasty.map(escape), user, st.just("C1"))
            )
        ),
        recent=draw(st.lists(history_row, max_size=10)),
        unreadable=draw(st.one_of(st.none(), nasty)),
        deploy_ref=draw(st.one_of(st.none(), nasty)),
        deploy_where=draw(st.one_of(st.none(), st.just("C0DEPLOYS"))),
        may_roll_back=True,
        may_unlock=True,
    )


@settings(SETTINGS, max_examples=10)
@given(apps=st.lists(app_home(), min_size=1, max_size=30, unique_by=lambda a: a.name))
def test_the_home_tab_fits(apps: list[AppHome]) -> None:
    accepted_view(home_view.view(apps, now=NOW))
