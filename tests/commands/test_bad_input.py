"""Bad input: any text parses or is a usage error; forged clicks and odd commands do nothing."""

from __future__ import annotations

import itertools
import json
import logging
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text as sql

from bot.commands import Command
from bot.commands.parser import parse
from bot.commands.usage import USAGE, VERBS, UsageError, ascii_int
from bot.render import blocks
from tests.conftest import World, eventually
from tests.fakes.slack import APP_ID, TEAM_DOMAIN
from tests.slack_client import VERIFICATION_TOKEN, SlackDriver

CHANNEL = "C0DEPLOYS"
MAX_MESSAGE = 300

# -------------------------------------------------------------------- the parser, by property

PARSER = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

CONTROL = ("\x00", "\x07", "\x1b[31m", "\u202e", "\u202d", "\u200b", "\u200d", "\ufeff", "\u2028")
LOOKALIKE = (
    "🚀",
    "👩\u200d💻",
    "é",
    "\u210c",
    "\u00b2",
    "\u0661",
)  # black-letter H, superscript 2, Arabic-Indic 1
QUOTING = ("`", "'", '"', "$(", "\\", "=", "..")
ODD = st.sampled_from([*CONTROL, *LOOKALIKE, *QUOTING])
SPACE = st.sampled_from([" ", "  ", "\t", "\n", "\u3000", "\u00a0", "\x1c"])
NAMES = st.sampled_from(["web", "docs", "shop", "WEB", "a", "web.v2", "w-b_1", "-web", ".x"])
NAME_LIKE = st.one_of(NAMES, st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,110}", fullmatch=True))
REFS = st.one_of(
    st.sampled_from(["main", "a1b2c3d", "release/2.0", "v1.2.3", "../etc", "a..b", "-x", "x@{1}"]),
    st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._/@+-]{0,210}", fullmatch=True),
)
IDS = st.one_of(
    st.sampled_from(["dep_1234", "8241", "0", "-1", "x" * 101]),
    st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_-]{0,105}", fullmatch=True),
)
ENV = st.builds(
    "{}={}".format,
    st.one_of(st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,130}", fullmatch=True), st.text(max_size=8)),
    st.text(max_size=20),
)
JUNK = st.one_of(st.text(min_size=1, max_size=30), ODD, st.text(alphabet="`=/.-@", min_size=1))
WORD = st.one_of(
    st.sampled_from(sorted(VERBS | {"deploy", "STATUS", "Help"})),
    NAME_LIKE,
    REFS,
    IDS,
    ENV,
    JUNK,
    st.builds("".join, st.lists(st.one_of(NAME_LIKE, ODD), min_size=2, max_size=3)),
)
SENTENCES = st.builds(
    lambda words, spaces: "".join(w + s for w, s in zip(words, spaces, strict=False)),
    st.lists(WORD, max_size=8),
    st.lists(SPACE, min_size=8, max_size=8),
)
LONG = st.builds(
    lambda word, n, tail: (word + " ") * n + tail,
    WORD,
    st.integers(min_value=100, max_value=2000),
    st.text(max_size=20),
)


def _check_parse(text: str) -> None:
    result: object
    try:
        result = parse(text)
    except UsageError as exc:
        result = exc
    if isinstance(result, UsageError):
        message = str(result)
        assert result.usage.startswith("/deploy")
        assert result.usage in USAGE.values()
        assert len(message) <= MAX_MESSAGE
        assert message[:1].isupper(), message  # a sentence, not a word echoed first
        assert result.usage not in message  # the usage line is said once, after it
        assert not [ch for ch in message if unicodedata.category(ch) in {"Cc", "Cf", "Cs"}]
    else:
        assert isinstance(result, Command)


@PARSER
@given(st.text())
def test_any_text_parses_or_is_a_usage_error(text: str) -> None:
    """Any text at all: a command, or a UsageError whose words are short and printable."""
    _check_parse(text)


@PARSER
@given(SENTENCES)
def test_grammar_like_text_parses_or_is_a_usage_error(text: str) -> None:
    """Verbs, names, refs, KEY=VALUE words and junk, mixed: a command or a clean UsageError."""
    _check_parse(text)


@settings(max_examples=50, deadline=None)
@given(st.one_of(LONG, st.text(min_size=990, max_size=1100)))
def test_long_text_parses_or_is_a_usage_error(text: str) -> None:
    """Text around and far over the length limit: a command or a clean UsageError."""
    _check_parse(text)


@PARSER
@given(st.sampled_from(sorted(VERBS - {"help"})), st.lists(WORD, max_size=4))
def test_a_verb_with_any_words_parses_or_is_a_usage_error(verb: str, words: list[str]) -> None:
    """Every verb, whatever follows it: its own usage line or a command of its kind."""
    _check_parse(" ".join([verb, *words]))


# -------------------------------------------------------------------- odd slash commands


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("web " + "a" * 5000, "characters long"),
        ("x" * 5000, "characters long"),
        ("\u202eweb", "There is no app or command called"),
        ("web\u200d", "There is no app or command called"),
        ("status web\u200b", "That is not an app name"),
        ("🚀", "There is no app or command called"),
        ("web 👩\u200d💻", "is not a branch or commit"),
        ("web main\x00", "is not a branch or commit"),
        ("rollback\x00 web", "There is no app or command called"),
        ("lock web \u202efreeze", "characters I can't show"),
        ("logs web dep\ufeff1", "is not a deployment id"),
    ],
)
async def test_odd_text_gets_a_polite_usage_error_and_nothing_else(
    world: World, text: str, expected: str
) -> None:
    """Oversized or odd Unicode: an ephemeral usage line; no provider, no channel message."""
    answer = await world.ask(text)
    assert expected in answer
    assert "Usage: `/deploy" in answer
    assert "\x00" not in answer
    assert "\u202e" not in answer
    assert len(answer) < 400
    await world.runtime.door.drain()
    assert world.nometria.requests == []
    assert world.stormkit.requests == []
    assert world.slack.calls_to("chat.postMessage") == []
    assert world.slack.calls_to("chat.postEphemeral") == []
    assert await _rows(world, "SELECT count(*) FROM deployments") == [(0,)]


@pytest.mark.parametrize("text", ["web release/2.0", "shop main", "web a1b2c3", "web e4f5g6h"])
async def test_a_branch_on_nometria_is_refused_before_anything_is_sent(
    world: World, text: str
) -> None:
    """Nometria deploys commits of its connected branch: a ref that is no SHA sends nothing."""
    answer = await world.ask(text)
    ref = text.split()[1]
    assert f"`{ref}` is not a commit SHA (7 to 40 hex characters)" in answer
    assert "deploys commits of the branch" in answer
    assert "Usage: `/deploy" in answer
    await world.runtime.door.drain()
    assert world.nometria.requests == []
    assert world.slack.calls_to("chat.postMessage") == []
    assert await _rows(world, "SELECT count(*) FROM deployments") == [(0,)]


async def test_a_commit_on_nometria_is_sent_as_its_sha(world: World) -> None:
    await world.driver.command("web A1B2C3D4", channel=CHANNEL)
    [trigger] = await eventually(lambda: world.nometria.requests_to("POST", "/v1/deployments"))
    assert trigger.json == {"project_id": "proj_abc123", "commit_sha": "A1B2C3D4"}


# -------------------------------------------------------------------- helpers for forged clicks

#: What a refused click is told: whatever the reason, it ends so.
REFUSED = "nothing was done"
OTHER_CHANNEL = "C0ELSEWHERE"
_TRIGGERS = itertools.count(1)


async def _rows(world: World, query: str) -> list[tuple[Any, ...]]:
    """The rows an SQL query finds in the bot's store, as plain tuples."""
    async with world.runtime.db.engine.connect() as conn:
        result = await conn.execute(sql(query))
        return [tuple(row) for row in result]


async def _state(world: World) -> dict[str, Any]:
    """Everything a click could change: the store, the channels, chat.* calls, provider POSTs.

    Left out: the claims table (it keeps each request's de-duplication key and rollback nonces),
    audit rows that record a refusal, and chat.postEphemeral (the refusal itself).
    """
    messages = [
        (m.channel, m.ts, m.thread_ts, json.dumps([m.history, m.reactions, m.metadata]))
        for channel in sorted(world.slack.messages)
        for m in world.slack.messages[channel]
    ]
    chat = [
        (call.method, json.dumps(call.args, sort_keys=True, default=str))
        for call in world.slack.calls
        if call.method.startswith("chat.") and call.method != "chat.postEphemeral"
    ]
    return {
        "deployments": await _rows(world, "SELECT * FROM deployments ORDER BY id"),
        "outbox": await _rows(world, "SELECT * FROM outbox ORDER BY id"),
        "locks": await _rows(world, "SELECT * FROM locks ORDER BY app"),
        "audit": await _rows(world, "SELECT * FROM audit WHERE outcome != 'refused' ORDER BY id"),
        "messages": messages,
        "chat": chat,
        "nometria": [(r.path, r.body) for r in world.nometria.requests_to("POST")],
        "stormkit": [(r.path, r.body) for r in world.stormkit.requests_to("POST")],
    }


async def _post(driver: SlackDriver, payload: dict[str, Any]) -> int:
    """Send a raw block_actions body, signed with the driver's secret; return the HTTP status."""
    body = urlencode({"payload": json.dumps(payload)}).encode()
    response = await driver.post(body)
    return response.status_code


@dataclass(frozen=True)
class Pending:
    """Two Stormkit builds of `blog`, each waiting for approval behind its own prompt."""

    root: str
    prompt: str
    row: int
    other_root: str
    other_prompt: str
    other_row: int


def _approve_value(world: World, ts: str) -> str:
    """The value of the Approve button on the message `ts` (its tracked row's id)."""
    message = world.slack.message(CHANNEL, ts)
    assert message is not None
    [value] = [
        element["value"]
        for block in message.blocks
        for element in block.get("elements", [])
        if element.get("action_id") == blocks.APPROVE
    ]
    return str(value)


async def _deploy_blog(world: World, tracked: int) -> None:
    """Request a `blog` deploy and wait until the store tracks `tracked` deploys (building,
    or waiting in line)."""
    await world.driver.command("blog", user="U0DEV", channel=CHANNEL)
    query = "SELECT count(*) FROM deployments"

    async def followed() -> bool:
        return await _rows(world, query) == [(tracked,)]

    await eventually(followed)
    await world.runtime.door.drain()


async def _pending(world: World) -> Pending:
    """Two `blog` builds, one after the other (the second waits in line until the first is
    built); once both are ready, their prompts and row ids, the newer first: it is the one an
    approver may approve (the older would go live only to be replaced)."""
    await _deploy_blog(world, 1)
    await _deploy_blog(world, 2)

    async def prompted() -> list[tuple[Any, ...]]:
        rows = await _rows(world, "SELECT id, root_ts, prompt_ts FROM deployments ORDER BY id")
        return rows if all(prompt_ts is not None for _, _, prompt_ts in rows) else []

    for _ in range(10):
        await world.tick(2)
        await world.runtime.outbox.idle()
        if await prompted():
            break
    [(other_row, other_root, other_prompt), (row, root, prompt)] = await eventually(prompted)
    await world.runtime.outbox.idle()
    assert _approve_value(world, prompt) == str(row)
    assert _approve_value(world, other_prompt) == str(other_row)
    return Pending(root, prompt, row, other_root, other_prompt, other_row)


def _click_payload(world: World, pending: Pending, user: str = "U0LEAD") -> dict[str, Any]:
    """What Slack sends when `user` clicks Approve & publish on the first pending prompt."""
    message = world.slack.message(CHANNEL, pending.prompt)
    assert message is not None
    response_url = world.slack.new_response_url(
        CHANNEL, user, message_ts=pending.prompt, thread_ts=pending.root
    )
    name = world.slack.user_name(user)
    return {
        "type": "block_actions",
        "user": {"id": user, "username": name, "name": name, "team_id": "T0TEAM"},
        "api_app_id": APP_ID,
        "token": VERIFICATION_TOKEN,
        "container": {
            "type": "message",
            "message_ts": pending.prompt,
            "channel_id": CHANNEL,
            "is_ephemeral": False,
            "thread_ts": pending.root,
        },
        "trigger_id": f"{next(_TRIGGERS)}.T0TEAM.{time.time_ns():x}",
        "team": {"id": "T0TEAM", "domain": TEAM_DOMAIN},
        "enterprise": None,
        "is_enterprise_install": False,
        "channel": {"id": CHANNEL, "name": world.slack.channel_name(CHANNEL)},
        "state": {"values": {}},
        "response_url": response_url,
        "message": message.to_api(),
        "actions": [
            {
                "action_id": blocks.APPROVE,
                "block_id": f"approval-{pending.row}",
                "text": {"type": "plain_text", "text": "Approve & publish", "emoji": True},
                "value": str(pending.row),
                "type": "button",
                "style": "primary",
                "action_ts": f"{time.time():.6f}",
            }
        ],
    }


async def _still_pending(world: World, pending: Pending) -> None:
    """Both approvals still wait, and nothing was ever published."""
    assert await _rows(world, "SELECT id, approval FROM deployments ORDER BY id") == [
        (pending.other_row, "pending"),
        (pending.row, "pending"),
    ]
    assert world.stormkit.requests_to("POST", "/v1/deployments/") == []
    assert world.stormkit.published_id() is None


# -------------------------------------------------------------------- Unicode digits on a button


@pytest.mark.parametrize(
    "value",
    [
        # str.isdigit() says yes to these two, and int() says no
        pytest.param("\u00b2", id="superscript-two"),
        pytest.param("\u2460", id="circled-one"),
        # the row's own id in digits int() reads: an isdigit() check would approve it
        pytest.param("arabic-indic", id="arabic-indic"),
        pytest.param("fullwidth", id="fullwidth"),
    ],
)
async def test_a_unicode_digit_on_the_approve_button_is_refused_in_words(
    world: World, caplog: pytest.LogCaptureFixture, value: str
) -> None:
    """A non-ASCII digit as the row id is refused in words: nothing changes, no ERROR line."""
    pending = await _pending(world)
    digits = {"arabic-indic": "\u0660", "fullwidth": "\uff10"}
    if value in digits:
        zero = ord(digits[value])
        value = "".join(chr(zero + int(d)) for d in str(pending.row))
        assert int(value) == pending.row  # what an isdigit() check would have let through
    before = await _state(world)
    shown = len(world.slack.ephemerals)
    response = await world.driver.click(
        blocks.APPROVE,
        value,
        message_ts=pending.prompt,
        user="U0LEAD",
        channel=CHANNEL,
        require_button=False,
    )
    assert response.status_code == 200
    told = await world.ephemeral_after(shown)
    assert "does not belong" in told
    assert REFUSED in told
    await world.runtime.door.drain()
    assert await _state(world) == before
    await _still_pending(world, pending)
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []


# -------------------------------------------------------------------- invisible KEY=VALUE


@pytest.mark.parametrize("text", ["web main FEATURE=\u202eno", "web main FEATURE=o\x00n"])
async def test_an_override_with_invisible_characters_is_a_usage_error(
    world: World, text: str
) -> None:
    """A KEY=VALUE value with invisible or control characters: a usage line, nothing triggered."""
    answer = await world.ask(text)
    assert "The value of `FEATURE` has characters I can't pass on." in answer
    assert "Usage: `/deploy <app> [ref] [KEY=VALUE ...]`" in answer
    assert "\u202e" not in answer
    assert "\x00" not in answer
    await world.runtime.door.drain()
    assert world.nometria.requests == []
    assert world.slack.calls_to("chat.postMessage") == []
    assert await _rows(world, "SELECT count(*) FROM deployments") == [(0,)]


# -------------------------------------------------------------------- forged block_actions

Forgery = Callable[[dict[str, Any], Pending], object]


def _action(payload: dict[str, Any]) -> dict[str, Any]:
    """The (first) clicked element of a block_actions payload."""
    action: dict[str, Any] = payload["actions"][0]
    return action


def _rollback(value: object) -> Forgery:
    """The Roll back button's action_id, with `value` (JSON-encoded unless it is a str)."""
    raw = value if isinstance(value, str) else json.dumps(value)
    return lambda payload, _: _action(payload).update(action_id=blocks.ROLLBACK, value=raw)


def _value(value: object) -> Forgery:
    """The Approve button, clicked with `value` instead of its own."""
    return lambda payload, _: _action(payload).update(value=value)


def _elsewhere(payload: dict[str, Any], pending: Pending) -> None:
    """This row's id, clicked on the other deployment's prompt (in that thread)."""
    payload["container"].update(message_ts=pending.other_prompt, thread_ts=pending.other_root)
    payload["message"].update(ts=pending.other_prompt)


def _other_channel(payload: dict[str, Any], _: Pending) -> None:
    """The right row and message, but sent from a channel the deployment is not in."""
    payload["channel"] = {"id": OTHER_CHANNEL, "name": "elsewhere"}
    payload["container"]["channel_id"] = OTHER_CHANNEL


PLAN = {"app": "blog", "from": "1", "to": "2", "nonce": "0123456789abcdef"}
OK, UNHANDLED, BOLT_FAILED = 200, 404, 500
#: Bolt's own answer when no listener matches: nothing runs, no one is told anything.
NO_LISTENER = (UNHANDLED,)
#: Our listener runs and says no.
ANSWERED = (OK,)

FORGED = [
    pytest.param(lambda p, _: p.pop("actions"), NO_LISTENER, id="no-actions"),
    # Bolt itself reads actions[0] before any listener: an aiohttp 500 is all it can answer.
    pytest.param(lambda p, _: p.update(actions=[]), (BOLT_FAILED,), id="empty-actions"),
    pytest.param(lambda p, _: p.update(actions=[{}]), (OK, UNHANDLED), id="an-empty-action"),
    pytest.param(lambda p, _: p.pop("user"), ANSWERED, id="no-user"),
    pytest.param(lambda p, _: (p.pop("channel"), p.pop("container")), ANSWERED, id="no-channel"),
    pytest.param(lambda p, _: _action(p).pop("value"), ANSWERED, id="no-value"),
    pytest.param(_value(7), ANSWERED, id="value-not-a-string"),
    pytest.param(_value(""), ANSWERED, id="empty-value"),
    pytest.param(_value("not-a-number"), ANSWERED, id="not-a-number"),
    pytest.param(_value("9" * 40), ANSWERED, id="huge-number"),
    pytest.param(_value("-1"), ANSWERED, id="negative"),
    pytest.param(_value("1.0"), ANSWERED, id="float"),
    pytest.param(_value("²"), ANSWERED, id="superscript-digit"),  # isdigit(), int() raises
    pytest.param(_value("\u0661"), ANSWERED, id="arabic-indic-one"),  # int() reads it as 1
    pytest.param(
        lambda p, pending: _action(p).update(value=str(pending.other_row)),
        ANSWERED,
        id="another-rows-id-on-this-message",
    ),
    pytest.param(_elsewhere, ANSWERED, id="this-rows-id-on-another-message"),
    pytest.param(_other_channel, ANSWERED, id="from-another-channel"),
    pytest.param(
        lambda p, _: _action(p).update(action_id="deploybot_publish_all"),
        NO_LISTENER,
        id="unknown-action-id",
    ),
    pytest.param(_rollback("{not json"), ANSWERED, id="rollback-not-json"),
    pytest.param(_rollback("[]"), ANSWERED, id="rollback-not-an-object"),
    pytest.param(_rollback({"app": "blog", "to": "2"}), ANSWERED, id="rollback-missing-keys"),
    pytest.param(_rollback(PLAN | {"force": "yes"}), ANSWERED, id="rollback-extra-keys"),
    pytest.param(
        _rollback({"app": "blog", "from": 1, "to": None, "nonce": ["x"]}),
        ANSWERED,
        id="rollback-non-string-values",
    ),
    pytest.param(_rollback(PLAN | {"app": "no-such-app"}), ANSWERED, id="rollback-unknown-app"),
]


@pytest.mark.parametrize(("forge", "statuses"), FORGED)
async def test_a_forged_click_on_a_pending_approval_does_nothing(
    world: World, forge: Forgery, statuses: tuple[int, ...]
) -> None:
    """A broken or forged block_actions body: refused in words or not at all; nothing changes."""
    pending = await _pending(world)
    payload = _click_payload(world, pending)
    forge(payload, pending)
    before = await _state(world)
    shown = len(world.slack.ephemerals)

    status = await _post(world.driver, payload)
    assert status in statuses
    if status == OK:
        told = await world.ephemeral_after(shown)
        assert REFUSED in told
    else:  # answered before any listener ran: no one is told anything
        assert world.slack.ephemerals[shown:] == []
    await world.runtime.door.drain()
    assert await _state(world) == before
    await _still_pending(world, pending)


async def test_the_click_the_forgeries_start_from_publishes(world: World) -> None:
    """The untouched payload is a real approval: so each forgery above fails by its change."""
    pending = await _pending(world)
    assert await _post(world.driver, _click_payload(world, pending)) == OK
    await eventually(lambda: "is live" in world.last_reply(CHANNEL, pending.root))
    assert len(world.stormkit.requests_to("POST", "/v1/deployments/")) == 1


# -------------------------------------------------------------------- whose signature


async def test_a_click_signed_with_another_apps_secret_is_refused(world: World) -> None:
    """Another app's signing secret: 401, and nothing at all changes."""
    pending = await _pending(world)
    before = await _state(world)
    shown = len(world.slack.ephemerals)
    impostor = SlackDriver(world.url, "another-apps-signing-secret", world.slack, world.http)
    response = await impostor.click(
        blocks.APPROVE, message_ts=pending.prompt, user="U0LEAD", channel=CHANNEL
    )
    assert response.status_code == 401
    await world.runtime.door.drain()
    assert world.slack.ephemerals[shown:] == []
    assert await _state(world) == before
    await _still_pending(world, pending)


async def test_our_signature_with_another_api_app_id_is_handled_normally(world: World) -> None:
    """The signing secret is the app's identity: a signed click naming another api_app_id works."""
    pending = await _pending(world)
    driver = SlackDriver(
        world.url, world.driver.signing_secret, world.slack, world.http, api_app_id="A0OTHERAPP"
    )
    response = await driver.click(
        blocks.APPROVE, message_ts=pending.prompt, user="U0LEAD", channel=CHANNEL
    )
    assert response.status_code == 200
    await eventually(lambda: "is live" in world.last_reply(CHANNEL, pending.root))
    assert len(world.stormkit.requests_to("POST", "/v1/deployments/")) == 1
    assert await _rows(world, "SELECT id, approval, approved_by FROM deployments ORDER BY id") == [
        (pending.other_row, "pending", None),
        (pending.row, "approved", "U0LEAD"),
    ]


async def test_a_rollback_the_provider_refused_is_not_called_carried_out(world: World) -> None:
    """After Nometria refuses a rollback, the same confirm button is not told it was done."""
    world.nometria.seed_history("proj_abc123", n=3)
    before = len(world.slack.ephemerals)
    await world.driver.command("rollback web", user="U0LEAD", channel=CHANNEL)
    [confirm] = await eventually(lambda: world.slack.ephemerals[before:])
    world.nometria.inject(409, {"error": "a deployment is in progress"}, method="POST", times=2)
    answers = []
    for _ in range(2):
        shown = len(world.slack.ephemerals)
        # the button is back once the refusal is answered (it may be said a moment before)
        await eventually(lambda: blocks.ROLLBACK in json.dumps(confirm.blocks))
        await world.confirm_rollback(confirm.ts, user="U0LEAD", channel=CHANNEL)
        answers.append(await world.ephemeral_after(shown))
    assert "in progress" in answers[0]
    assert "already carried out" not in answers[1]
    assert "in progress" in answers[1]  # the button tried again, and Nometria refused again
    assert len(world.nometria.requests_to("POST", "/v1/deployments/")) == 2


# -------------------------------------------------------------------- forged Cancel values


@pytest.mark.parametrize("ascii_digits", ["2", "007", "123456789012345678"])
def test_a_number_is_ascii_digits(ascii_digits: str) -> None:
    assert ascii_int(ascii_digits) == int(ascii_digits)


@pytest.mark.parametrize(
    "word",
    ["", "²", "①", "\u0663", "\u0661\u0662", "1.0", "-1", "+1", " 1", "1_000", "9" * 19, "0x1"],
)
def test_anything_else_is_not_a_number(word: str) -> None:
    """What str.isdigit() takes and int() raises on ("²"), or reads (Arabic-Indic 3), is no
    number."""
    assert ascii_int(word) is None


def _in_line(world: World, ts: str) -> bool:
    message = world.slack.message(CHANNEL, ts)
    return message is not None and "next in line" in message.all_text


@pytest.mark.parametrize("value", ["²", "①", "\u0662", "1.0", "9" * 40])
async def test_a_forged_cancel_value_is_refused_in_words(world: World, value: str) -> None:
    """A signed click on a real Cancel button with its value forged (a digit to isdigit(),
    not to int(); another script's digit naming another row): refused in words, nothing
    cancelled, nothing broken."""
    await world.driver.command("web", channel=CHANNEL)
    await eventually(lambda: world.slack.root_messages(CHANNEL))
    await eventually(lambda: world.nometria.requests_to("POST", "/v1/deployments"))
    await world.driver.command("web", channel=CHANNEL)
    second = (await eventually(lambda: world.slack.root_messages(CHANNEL)[1:]))[0].ts
    await eventually(lambda: _in_line(world, second))
    await eventually(lambda: _cancel_shown(world, second))  # posted with it
    await world.runtime.door.drain()  # its thread's reply is queued too
    await world.runtime.outbox.idle()
    before = await _state(world)
    shown = len(world.slack.ephemerals)

    response = await world.driver.click(
        blocks.CANCEL, value, message_ts=second, user="U0DEV", channel=CHANNEL
    )
    assert response.status_code == OK
    told = await world.ephemeral_after(shown)
    assert "That Cancel button names no deploy of mine; nothing was done." in told
    await world.runtime.door.drain()
    await world.runtime.outbox.idle()
    assert await _state(world) == before
    assert _in_line(world, second)


def _cancel_shown(world: World, ts: str) -> bool:
    message = world.slack.message(CHANNEL, ts)
    return message is not None and any(
        element.get("action_id") == blocks.CANCEL
        for block in message.blocks
        for element in block.get("elements") or []
        if isinstance(element, dict)
    )
