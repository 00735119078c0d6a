"""FakeSlack and the Slack driver, exercised with the real slack_sdk and slack_bolt over HTTP."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond, AsyncSay
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient

from tests.conftest import eventually
from tests.fakes.server import serving
from tests.fakes.slack import FakeSlack
from tests.fakes.slack_limits import SlackLimits
from tests.slack_client import SlackDriver, sign

TOKEN = "xoxb-test-token"
SECRET = "signing-secret"
CHANNEL = "C0DEPLOYS"


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    fake = FakeSlack(token=TOKEN)
    async with serving(fake.app()) as served:
        fake.bind(served.url)
        yield fake


@pytest.fixture
def client(fake: FakeSlack) -> AsyncWebClient:
    return AsyncWebClient(token=TOKEN, base_url=fake.api_url)


def section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


async def test_auth_test_identifies_the_bot(client: AsyncWebClient) -> None:
    response = await client.auth_test()
    assert response["user_id"] == "UBOT"
    assert response["bot_id"] == "BBOT"
    assert response["team_id"] == "T0TEAM"
    assert response["team"] == "Acme"
    assert response["url"].startswith("https://")


async def test_wrong_or_missing_token_is_invalid_auth(fake: FakeSlack) -> None:
    for token in ("xoxb-wrong", None):
        client = AsyncWebClient(token=token, base_url=fake.api_url)
        with pytest.raises(SlackApiError) as caught:
            await client.chat_postMessage(channel=CHANNEL, text="hi")
        assert caught.value.response.status_code == 200
        assert caught.value.response["error"] == "invalid_auth"
    assert fake.messages == {}


async def test_post_records_call_and_message(fake: FakeSlack, client: AsyncWebClient) -> None:
    blocks = [section("*Deploying* web")]
    response = await client.chat_postMessage(channel=CHANNEL, text="Deploying web", blocks=blocks)

    ts = response["ts"]
    assert response["channel"] == CHANNEL
    assert response["message"]["text"] == "Deploying web"
    assert fake.root_messages(CHANNEL) == [fake.message(CHANNEL, ts)]
    stored = fake.message(CHANNEL, ts)
    assert stored is not None
    assert (stored.text, stored.blocks, stored.thread_ts, stored.user) == (
        "Deploying web",
        blocks,
        None,
        "UBOT",
    )
    [call] = fake.calls_to("chat.postMessage")
    assert call.args["blocks"] == blocks
    assert call.headers["authorization"] == f"Bearer {TOKEN}"
    assert call.headers["Content-Type"].startswith("application/json")


async def test_timestamps_are_unique_and_increasing(client: AsyncWebClient) -> None:
    stamps = [(await client.chat_postMessage(channel=CHANNEL, text=str(i)))["ts"] for i in range(3)]
    assert stamps == ["1742300400.000100", "1742300400.000200", "1742300400.000300"]


async def test_form_encoded_call_with_blocks_as_json_string(
    fake: FakeSlack, client: AsyncWebClient
) -> None:
    blocks = [section("from a form")]
    await client.api_call(
        "chat.postMessage",
        data={
            "channel": CHANNEL,
            "text": "form",
            "blocks": '[{"type": "section", "text": {"type": "mrkdwn", "text": "from a form"}}]',
        },
    )
    [message] = fake.root_messages(CHANNEL)
    assert message.blocks == blocks
    assert fake.calls[-1].headers["content-type"] == "application/x-www-form-urlencoded"


async def test_update_keeps_history(fake: FakeSlack, client: AsyncWebClient) -> None:
    ts = (await client.chat_postMessage(channel=CHANNEL, text="v1", blocks=[section("one")]))["ts"]
    response = await client.chat_update(channel=CHANNEL, ts=ts, text="v2")

    assert response["ts"] == ts
    message = fake.message(CHANNEL, ts)
    assert message is not None
    assert message.text == "v2"
    assert message.blocks == [section("one")]  # omitted blocks are kept, as Slack does
    await client.chat_update(channel=CHANNEL, ts=ts, text="v3", blocks=[])
    assert message.history == [("v1", [section("one")]), ("v2", [section("one")]), ("v3", [])]
    assert message.edit_count == 2


async def test_update_of_unknown_message_fails(client: AsyncWebClient) -> None:
    with pytest.raises(SlackApiError) as caught:
        await client.chat_update(channel=CHANNEL, ts="1.000000", text="x")
    assert caught.value.response["error"] == "message_not_found"


async def test_thread_replies_and_flattened_texts(fake: FakeSlack, client: AsyncWebClient) -> None:
    root = (await client.chat_postMessage(channel=CHANNEL, text="Deploy web v1.2.3"))["ts"]
    await client.chat_postMessage(channel=CHANNEL, thread_ts=root, text="Building")
    reply = await client.chat_postMessage(
        channel=CHANNEL,
        thread_ts=root,
        text="Live",
        blocks=[
            {"type": "header", "text": {"type": "plain_text", "text": "Deployed"}},
            {
                "type": "section",
                "text": {"type": "mrkdwn", "text": "*web* is live"},
                "fields": [{"type": "mrkdwn", "text": "*Env*\nprod"}],
            },
            {"type": "context", "elements": [{"type": "mrkdwn", "text": "took 42s"}]},
            {
                "type": "rich_text",
                "elements": [
                    {
                        "type": "rich_text_preformatted",
                        "elements": [{"type": "text", "text": "sha 1a2b3c"}],
                    },
                    {
                        "type": "rich_text_section",
                        "elements": [
                            {"type": "text", "text": "by "},
                            {"type": "user", "user_id": "U0DEV"},
                        ],
                    },
                ],
            },
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "button",
                        "action_id": "rollback",
                        "value": "d-1",
                        "text": {"type": "plain_text", "text": "Roll back"},
                        "confirm": {
                            "title": {"type": "plain_text", "text": "Roll back?"},
                            "text": {"type": "plain_text", "text": "Sure?"},
                            "confirm": {"type": "plain_text", "text": "Yes"},
                            "deny": {"type": "plain_text", "text": "No"},
                        },
                    }
                ],
            },
        ],
    )
    # a reply to a reply lands in the root's thread
    await client.chat_postMessage(channel=CHANNEL, thread_ts=reply["ts"], text="Watching")

    assert [m.text for m in fake.root_messages(CHANNEL)] == ["Deploy web v1.2.3"]
    assert [m.text for m in fake.thread(CHANNEL, root)] == ["Building", "Live", "Watching"]
    texts = fake.texts_in_thread(CHANNEL, root)
    assert texts[0] == "Building"
    assert texts[1].splitlines() == [
        "Live",
        "Deployed",
        "*web* is live",
        "*Env*",
        "prod",
        "took 42s",
        "sha 1a2b3c",
        "by <@U0DEV>",
        "Roll back",
    ]
    replies = await client.conversations_replies(channel=CHANNEL, ts=root)
    assert [m["text"] for m in replies["messages"]] == [
        "Deploy web v1.2.3",
        "Building",
        "Live",
        "Watching",
    ]


async def test_ephemeral(fake: FakeSlack, client: AsyncWebClient) -> None:
    response = await client.chat_postEphemeral(channel=CHANNEL, user="U0DEV", text="only you")
    [ephemeral] = fake.ephemerals
    assert (ephemeral.channel, ephemeral.user, ephemeral.text) == (CHANNEL, "U0DEV", "only you")
    assert response["message_ts"] == ephemeral.ts
    assert fake.messages == {}


async def test_injected_not_in_channel(fake: FakeSlack, client: AsyncWebClient) -> None:
    fake.fail("chat.postMessage", channel=CHANNEL)
    with pytest.raises(SlackApiError) as caught:
        await client.chat_postMessage(channel=CHANNEL, text="hi")
    assert caught.value.response["error"] == "not_in_channel"
    await client.chat_postMessage(channel=CHANNEL, text="hi again")  # only once
    assert len(fake.root_messages(CHANNEL)) == 1


async def test_channel_sets(fake: FakeSlack, client: AsyncWebClient) -> None:
    fake.not_in_channels.add("C0OTHER")
    fake.unknown_channels.add("C0GONE")
    for channel, error in (("C0OTHER", "not_in_channel"), ("C0GONE", "channel_not_found")):
        with pytest.raises(SlackApiError) as caught:
            await client.chat_postMessage(channel=channel, text="hi")
        assert caught.value.response["error"] == error
    info = await client.conversations_info(channel="C0OTHER")
    assert info["channel"]["is_member"] is False
    assert (await client.conversations_info(channel=CHANNEL))["channel"]["name"] == "deploys"


async def test_membership_answers_as_slack_does(fake: FakeSlack, client: AsyncWebClient) -> None:
    """A private channel the bot is not in is hidden from it (channel_not_found); an ephemeral
    message to someone outside the channel is user_not_in_channel; the bot outside a public
    one is not_in_channel, for chat.postEphemeral too."""
    fake.not_in_channels |= {"C0SECRET", "C0PUBLIC"}
    fake.private_channels.add("C0SECRET")
    fake.members[CHANNEL] = {"U0IN"}
    calls = [
        (client.chat_postMessage(channel="C0SECRET", text="hi"), "channel_not_found"),
        (
            client.chat_postEphemeral(channel="C0SECRET", user="U0IN", text="hi"),
            "channel_not_found",
        ),
        (client.chat_postEphemeral(channel="C0PUBLIC", user="U0IN", text="hi"), "not_in_channel"),
        (
            client.chat_postEphemeral(channel=CHANNEL, user="U0OUT", text="hi"),
            "user_not_in_channel",
        ),
    ]
    for call, error in calls:
        with pytest.raises(SlackApiError) as caught:
            await call
        assert caught.value.response["error"] == error
    await client.chat_postEphemeral(channel=CHANNEL, user="U0IN", text="hi")
    assert [e.user for e in fake.ephemerals] == ["U0IN"]


async def test_users_info(client: AsyncWebClient) -> None:
    user = (await client.users_info(user="U0ALICE"))["user"]
    assert (user["id"], user["name"], user["real_name"]) == ("U0ALICE", "alice", "Alice")


async def test_unknown_method(client: AsyncWebClient) -> None:
    with pytest.raises(SlackApiError) as caught:
        await client.api_call("files.upload.v9")
    assert caught.value.response["error"] == "unknown_method"


def _plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text}


def _mrkdwn(text: str) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": text}


def _buttons(*elements: dict[str, Any]) -> dict[str, Any]:
    return {"type": "actions", "elements": list(elements)}


def _button(
    *, text: str = "Go", value: str = "1", confirm_text: dict[str, Any] | None = None
) -> dict[str, Any]:
    button = {"type": "button", "action_id": "go", "text": _plain(text), "value": value}
    if confirm_text is not None:
        button["confirm"] = {
            "title": _plain("Sure?"),
            "text": confirm_text,
            "confirm": _plain("Yes"),
            "deny": _plain("No"),
        }
    return button


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"text": "x", "blocks": [section("b")] * 51}, "invalid_blocks"),
        ({"text": "x", "blocks": [section("b" * 3001)]}, "invalid_blocks"),
        ({"text": "x", "blocks": [section("")]}, "invalid_blocks"),
        ({"text": "x" * 40_001}, "msg_too_long"),
        (
            {"text": "x", "blocks": [{"type": "header", "text": _plain("h" * 151)}]},
            "invalid_blocks",
        ),
        (
            {"text": "x", "blocks": [_buttons(_button(confirm_text=_mrkdwn("Sure?")))]},
            "invalid_blocks",
        ),
        ({"text": "x", "blocks": [_buttons(_button(value="v" * 2001))]}, "invalid_blocks"),
        ({"text": "x", "blocks": [_buttons(_button(text="b" * 76))]}, "invalid_blocks"),
        (
            {"text": "x", "blocks": [{"type": "context", "elements": [_mrkdwn("c")] * 11}]},
            "invalid_blocks",
        ),
    ],
)
async def test_validation(client: AsyncWebClient, kwargs: dict[str, Any], error: str) -> None:
    """What Slack's docs say it refuses, it refuses (tests/fakes/block_kit.py)."""
    with pytest.raises(SlackApiError) as caught:
        await client.chat_postMessage(channel=CHANNEL, **kwargs)
    assert caught.value.response["error"] == error


@pytest.mark.parametrize(
    "view",
    [
        {"type": "home", "blocks": [section("b")] * 101},
        {"type": "home", "blocks": [section("b")], "private_metadata": "m" * 3001},
        {"type": "modal", "title": _plain("t" * 25), "blocks": [section("b")]},
        {"type": "modal", "title": _plain("t"), "close": _plain("c" * 25), "blocks": []},
    ],
)
async def test_views_over_slacks_limits_are_refused(
    fake: FakeSlack, client: AsyncWebClient, view: dict[str, Any]
) -> None:
    if view["type"] == "home":
        call = client.views_publish(user_id="U0DEV", view=view)
    else:
        call = client.views_open(trigger_id="t-1", view=view)
    with pytest.raises(SlackApiError) as caught:
        await call
    assert caught.value.response["error"] == "invalid_arguments"
    assert fake.home_views == {}
    assert fake.views_opened == []


async def test_message_without_text_or_blocks_is_no_text(client: AsyncWebClient) -> None:
    # chat_postMessage() itself warns about a missing text (an error under filterwarnings)
    with pytest.raises(SlackApiError) as caught:
        await client.api_call("chat.postMessage", json={"channel": CHANNEL})
    assert caught.value.response["error"] == "no_text"


async def test_rate_limit_is_retried_by_the_sdk_handler(fake: FakeSlack) -> None:
    fake.rate_limit("chat.postMessage", retry_after=0)
    client = AsyncWebClient(
        token=TOKEN,
        base_url=fake.api_url,
        retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=1)],
    )
    await client.chat_postMessage(channel=CHANNEL, text="eventually")

    first, second = fake.calls_to("chat.postMessage")
    assert (first.status, first.response["error"]) == (429, "ratelimited")
    assert second.ok
    assert len(fake.root_messages(CHANNEL)) == 1


async def test_rate_limit_without_retry_raises(fake: FakeSlack, client: AsyncWebClient) -> None:
    fake.rate_limit("chat.postMessage", retry_after=7)
    with pytest.raises(SlackApiError) as caught:
        await client.chat_postMessage(channel=CHANNEL, text="x")
    assert caught.value.response.status_code == 429
    assert caught.value.response.headers["Retry-After"] == "7"
    assert caught.value.response["error"] == "ratelimited"


async def test_slacks_limits_when_enforced_per_channel_posts_and_workspace_edits() -> None:
    """Posts: a short burst per channel, then 429 with Retry-After; another channel is free.
    Edits: one budget for the whole workspace, whatever the channel."""
    fake = FakeSlack(token=TOKEN, limits=SlackLimits(post_every=5, post_burst=3, update_burst=2))
    async with serving(fake.app()) as served:
        fake.bind(served.url)
        client = AsyncWebClient(token=TOKEN, base_url=fake.api_url)
        posted = [await client.chat_postMessage(channel=CHANNEL, text=f"{i}") for i in range(3)]
        with pytest.raises(SlackApiError) as caught:
            await client.chat_postMessage(channel=CHANNEL, text="one too many")
        assert caught.value.response.status_code == 429
        assert int(caught.value.response.headers["Retry-After"]) in range(4, 6)
        assert (await client.chat_postMessage(channel="C0OTHER", text="elsewhere"))["ok"]
        for ts, channel in ((posted[0]["ts"], CHANNEL), (posted[1]["ts"], CHANNEL)):
            assert (await client.chat_update(channel=channel, ts=ts, text="edited"))["ok"]
        with pytest.raises(SlackApiError) as caught:
            await client.chat_update(channel=CHANNEL, ts=posted[2]["ts"], text="edited")
        assert caught.value.response.status_code == 429
    assert fake.limits is not None
    assert fake.limits.refused == {"chat.postMessage": 1, "chat.update": 1}
    assert [m.text for m in fake.messages[CHANNEL]] == ["edited", "edited", "2"]


async def test_server_error(fake: FakeSlack, client: AsyncWebClient) -> None:
    fake.server_error("chat.update", status=503)
    with pytest.raises(SlackApiError) as caught:
        await client.chat_update(channel=CHANNEL, ts="1.0", text="x")
    assert caught.value.response.status_code == 503


async def test_response_url_records_and_posts(fake: FakeSlack) -> None:
    url = fake.new_response_url(CHANNEL, "U0DEV")
    async with httpx.AsyncClient() as http:
        await http.post(url, json={"text": "just you"})
        await http.post(url, json={"text": "everyone", "response_type": "in_channel"})
    response_id = url.rsplit("/", 1)[1]
    assert [r["text"] for r in fake.responses[response_id]] == ["just you", "everyone"]
    assert [e.text for e in fake.ephemerals_for("U0DEV")] == ["just you"]
    assert [m.text for m in fake.root_messages(CHANNEL)] == ["everyone"]
    assert fake.response_url(response_id) == url


def test_sign_matches_slack_sdk_verifier() -> None:
    body = b"token=x&text=deploy+web"
    now = int(time.time())
    headers = sign(SECRET, body, now)
    verifier = SignatureVerifier(SECRET)
    assert verifier.is_valid(
        body, headers["X-Slack-Request-Timestamp"], headers["X-Slack-Signature"]
    )
    assert verifier.is_valid_request(body, headers)
    assert not SignatureVerifier("other").is_valid_request(body, headers)


# -------------------------------------------------------------------- driver against real Bolt


def approval_blocks(deploy_id: str) -> list[dict[str, Any]]:
    return [
        section(f"Deploy {deploy_id} needs approval"),
        {
            "type": "actions",
            "block_id": "approval",
            "elements": [
                {
                    "type": "button",
                    "action_id": "approve",
                    "value": deploy_id,
                    "text": {"type": "plain_text", "text": "Approve"},
                }
            ],
        },
    ]


@pytest.fixture
async def driver(fake: FakeSlack) -> AsyncIterator[SlackDriver]:
    app = AsyncApp(signing_secret=SECRET, client=AsyncWebClient(token=TOKEN, base_url=fake.api_url))

    @app.command("/deploy")
    async def deploy(ack: AsyncAck, command: dict[str, Any], say: AsyncSay) -> None:
        await ack(f"Got it, <@{command['user_id']}>")
        await say(text=f"Deploy {command['text']}?", blocks=approval_blocks(command["text"]))

    @app.action("approve")
    async def approve(ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond) -> None:
        await ack()
        action = body["actions"][0]
        await respond(
            text=f"Approved {action['value']} by {body['user']['name']} in {action['block_id']}",
            replace_original=True,
        )

    async with serving(app.web_app()) as served, httpx.AsyncClient() as http:
        yield SlackDriver(served.url, SECRET, fake, http)


async def test_command_and_click_through_bolt(fake: FakeSlack, driver: SlackDriver) -> None:
    response = await driver.command("web")
    assert response.status_code == 200
    assert response.text == "Got it, <@U0DEV>"
    # Bolt says and responds after the ack, in a task of its own: wait for what they send.
    [message] = await _until(lambda: fake.root_messages(CHANNEL))
    assert message.text == "Deploy web?"

    clicked = await driver.click("approve", message_ts=message.ts, user="U0ALICE")
    assert clicked.status_code == 200
    await _until(lambda: message.text.startswith("Approved"))
    assert message.text == "Approved web by alice in approval"
    assert message.blocks == []
    assert fake.calls_to("auth.test")  # Bolt resolved the bot through the fake


async def test_click_on_missing_button_is_refused(fake: FakeSlack, driver: SlackDriver) -> None:
    await driver.command("web")
    [message] = fake.root_messages(CHANNEL)
    with pytest.raises(LookupError):
        await driver.click("reject", message_ts=message.ts)


async def test_bolt_rejects_unsigned_and_stale_requests(driver: SlackDriver) -> None:
    assert (await driver.command("web", signed=False)).status_code == 401
    stale = int(time.time()) - 600
    assert (await driver.command("web", timestamp=stale)).status_code == 401


# -------------------------------------------------------------------- metadata and replies

RELEASE = {"event_type": "deploybot_notice", "event_payload": {"notice": 7}}


async def _until(check: Any) -> Any:
    return await eventually(check)


async def test_metadata_is_stored_and_shown_only_when_asked(
    fake: FakeSlack, client: AsyncWebClient
) -> None:
    """conversations.replies shows a message's metadata with include_all_metadata only."""
    root = (await client.chat_postMessage(channel=CHANNEL, text="root"))["ts"]
    reply = await client.chat_postMessage(
        channel=CHANNEL, thread_ts=root, text="Started", metadata=RELEASE
    )
    stored = fake.message(CHANNEL, reply["ts"])
    assert stored is not None
    assert stored.metadata == RELEASE

    shown = await client.conversations_replies(channel=CHANNEL, ts=root, include_all_metadata=True)
    assert [m.get("metadata") for m in shown["messages"]] == [None, RELEASE]
    assert fake.calls_to("conversations.replies")[-1].args["include_all_metadata"] == "1"
    for hidden in (
        await client.conversations_replies(channel=CHANNEL, ts=root),
        await client.conversations_replies(channel=CHANNEL, ts=root, include_all_metadata=False),
    ):
        assert all("metadata" not in m for m in hidden["messages"])
    as_text = await client.api_call(
        "conversations.replies",
        http_verb="GET",
        params={"channel": CHANNEL, "ts": root, "include_all_metadata": "true"},
    )
    assert as_text["messages"][1]["metadata"] == RELEASE
    history = await client.conversations_history(channel=CHANNEL, include_all_metadata=True)
    assert [m["text"] for m in history["messages"]] == ["root"]


async def test_update_replaces_metadata_only_when_given(
    fake: FakeSlack, client: AsyncWebClient
) -> None:
    ts = (await client.chat_postMessage(channel=CHANNEL, text="v1", metadata=RELEASE))["ts"]
    await client.chat_update(channel=CHANNEL, ts=ts, text="v2")
    message = fake.message(CHANNEL, ts)
    assert message is not None
    assert message.metadata == RELEASE
    newer = {"event_type": "deploybot_notice", "event_payload": {"notice": 8}}
    await client.chat_update(channel=CHANNEL, ts=ts, text="v3", metadata=newer)
    assert message.metadata == newer


@pytest.mark.parametrize(
    ("metadata", "error"),
    [
        ({"event_type": "x"}, "invalid_metadata_schema"),
        ({"event_type": "", "event_payload": {}}, "invalid_metadata_schema"),
        ({"event_type": "x", "event_payload": []}, "invalid_metadata_schema"),
        (["x"], "invalid_metadata_format"),
    ],
)
async def test_malformed_metadata_is_refused(
    fake: FakeSlack, client: AsyncWebClient, metadata: Any, error: str
) -> None:
    with pytest.raises(SlackApiError) as caught:
        await client.api_call(
            "chat.postMessage", json={"channel": CHANNEL, "text": "x", "metadata": metadata}
        )
    assert caught.value.response["error"] == error
    assert fake.messages == {}


async def test_replies_come_in_pages_root_first(fake: FakeSlack, client: AsyncWebClient) -> None:
    """`limit` and `cursor` page through root and replies; a reply's ts names its thread."""
    root = (await client.chat_postMessage(channel=CHANNEL, text="root"))["ts"]
    replies = [
        (await client.chat_postMessage(channel=CHANNEL, thread_ts=root, text=f"r{i}"))["ts"]
        for i in range(4)
    ]
    pages: list[list[str]] = []
    cursor = None
    while True:
        page = await client.conversations_replies(channel=CHANNEL, ts=root, limit=2, cursor=cursor)
        pages.append([m["text"] for m in page["messages"]])
        cursor = (page.get("response_metadata") or {}).get("next_cursor")
        assert page["has_more"] is bool(cursor)
        if not cursor:
            break
    assert pages == [["root", "r0"], ["r1", "r2"], ["r3"]]

    by_reply = await client.conversations_replies(channel=CHANNEL, ts=replies[2])
    assert [m["text"] for m in by_reply["messages"]] == ["root", "r0", "r1", "r2", "r3"]
    for args, error in (
        ({"ts": "1.000000"}, "thread_not_found"),
        ({"cursor": "?"}, "invalid_cursor"),
    ):
        with pytest.raises(SlackApiError) as caught:
            await client.conversations_replies(channel=CHANNEL, **{"ts": root, **args})
        assert caught.value.response["error"] == error


# -------------------------------------------------------------------- held answers


async def test_delay_carries_out_the_call_and_answers_later(
    fake: FakeSlack, client: AsyncWebClient
) -> None:
    """The message is visible at once; the caller hears so only after the delay, once."""
    fake.delay("chat.postMessage", seconds=0.3)
    started = time.monotonic()
    posting = asyncio.create_task(client.chat_postMessage(channel=CHANNEL, text="slow"))
    await _until(lambda: fake.root_messages(CHANNEL))
    assert not posting.done()
    assert [call.method for call in fake.held] == ["chat.postMessage"]

    response = await posting
    assert time.monotonic() - started >= 0.3
    assert response["ts"] == fake.root_messages(CHANNEL)[0].ts
    assert fake.held == []
    await asyncio.wait_for(client.chat_postMessage(channel=CHANNEL, text="fast"), timeout=0.25)


async def test_a_caller_that_gives_up_never_hears_but_the_message_stays(
    fake: FakeSlack, client: AsyncWebClient
) -> None:
    """As when the bot is killed mid-call: Slack has the message, the bot has no answer."""
    fake.delay("chat.postMessage", seconds=60)
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(client.chat_postMessage(channel=CHANNEL, text="lost answer"), 0.2)
    assert [m.text for m in fake.root_messages(CHANNEL)] == ["lost answer"]


async def test_hold_waits_for_release(fake: FakeSlack, client: AsyncWebClient) -> None:
    ts = (await client.chat_postMessage(channel=CHANNEL, text="v1"))["ts"]
    fake.hold("chat.update")
    updating = asyncio.create_task(client.chat_update(channel=CHANNEL, ts=ts, text="v2"))
    await _until(lambda: fake.held)
    message = fake.message(CHANNEL, ts)
    assert message is not None
    assert message.text == "v2"
    await asyncio.sleep(0.1)
    assert not updating.done()

    fake.release()
    assert (await updating)["ts"] == ts
    assert fake.held == []


async def test_a_hold_in_thread_lets_roots_go(fake: FakeSlack, client: AsyncWebClient) -> None:
    fake.hold("chat.postMessage", in_thread=True)
    root = await asyncio.wait_for(client.chat_postMessage(channel=CHANNEL, text="root"), 5)
    reply = asyncio.create_task(
        client.chat_postMessage(channel=CHANNEL, text="reply", thread_ts=root["ts"])
    )
    await _until(lambda: fake.held)
    assert fake.texts_in_thread(CHANNEL, root["ts"]) == ["reply"]  # carried out, not answered
    fake.release()
    assert (await reply)["ok"]


async def test_release_forgets_unused_holds(fake: FakeSlack, client: AsyncWebClient) -> None:
    fake.hold("chat.postMessage", times=2)
    fake.release()
    await asyncio.wait_for(client.chat_postMessage(channel=CHANNEL, text="free"), timeout=1)


async def test_shutdown_lets_held_answers_go() -> None:
    """A held answer never keeps the server from closing (aiohttp would wait 60 s for it)."""
    fake = FakeSlack(token=TOKEN)
    async with serving(fake.app()) as served:
        fake.bind(served.url)
        fake.hold("chat.postMessage")
        client = AsyncWebClient(token=TOKEN, base_url=fake.api_url)
        posting = asyncio.create_task(client.chat_postMessage(channel=CHANNEL, text="held"))
        await _until(lambda: fake.held)
        started = time.monotonic()
    assert time.monotonic() - started < 5
    assert (await posting)["ok"]
