"""Drive a Bolt app the way Slack does: signed form posts to `/slack/events` over real HTTP.

    driver = SlackDriver(bot_url, SIGNING_SECRET, fake_slack, http)
    response = await driver.command("deploy web v1.2.3")
    await driver.click("approve", message_ts=ts)

Payload shapes follow what Slack sends for a slash command and for a button click in a message
(`block_actions`). Each command gets a fresh response_url on the fake Slack, whose posts the fake
turns into channel messages, ephemerals or edits of the clicked message.
"""

from __future__ import annotations

import itertools
import json
import time
from typing import Any
from urllib.parse import urlencode

import httpx
from slack_sdk.signature import SignatureVerifier

from tests.fakes.slack import APP_ID, TEAM_DOMAIN, FakeSlack

VERIFICATION_TOKEN = "legacy-verification-token"  # deprecated by Slack, still sent


def sign(secret: str, body: bytes, timestamp: int | None = None) -> dict[str, str]:
    """The X-Slack-Request-Timestamp and X-Slack-Signature headers Slack would send."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    signature = SignatureVerifier(secret).generate_signature(timestamp=ts, body=body)
    if signature is None:  # only when the timestamp is None, which it is not
        raise RuntimeError("slack_sdk produced no signature")
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": signature}


class SlackDriver:
    """Posts what Slack posts to the bot. Every method returns the bot's HTTP response."""

    def __init__(
        self,
        bot_url: str,
        signing_secret: str,
        fake_slack: FakeSlack,
        http: httpx.AsyncClient,
        *,
        path: str = "/slack/events",
        api_app_id: str = APP_ID,
    ) -> None:
        self.url = bot_url.rstrip("/") + path
        self.signing_secret = signing_secret
        self.fake = fake_slack
        self.http = http
        self.api_app_id = api_app_id
        #: The response_url handed to the bot by the latest command or click.
        self.last_response_url: str | None = None
        self._ids = itertools.count(1)

    async def post(
        self,
        body: bytes,
        *,
        content_type: str = "application/x-www-form-urlencoded",
        signed: bool = True,
        timestamp: int | None = None,
        retry_num: int | None = None,
        retry_reason: str = "http_timeout",
    ) -> httpx.Response:
        """Post a raw body, signed unless `signed=False`."""
        headers = {"Content-Type": content_type}
        if signed:
            headers |= sign(self.signing_secret, body, timestamp)
        elif timestamp is not None:
            headers["X-Slack-Request-Timestamp"] = str(timestamp)
        if retry_num is not None:
            headers |= {"X-Slack-Retry-Num": str(retry_num), "X-Slack-Retry-Reason": retry_reason}
        return await self.http.post(self.url, content=body, headers=headers)

    async def command(
        self,
        text: str,
        *,
        user: str = "U0DEV",
        channel: str = "C0DEPLOYS",
        command: str = "/deploy",
        team: str = "T0TEAM",
        retry_num: int | None = None,
        timestamp: int | None = None,
        signed: bool = True,
    ) -> httpx.Response:
        """A slash command, e.g. `await driver.command("deploy web v1.2.3")`."""
        response_url = self.fake.new_response_url(channel, user)
        self.last_response_url = response_url
        form = {
            "token": VERIFICATION_TOKEN,
            "team_id": team,
            "team_domain": TEAM_DOMAIN,
            "channel_id": channel,
            "channel_name": self.fake.channel_name(channel),
            "user_id": user,
            "user_name": self.fake.user_name(user),
            "command": command,
            "text": text,
            "api_app_id": self.api_app_id,
            "is_enterprise_install": "false",
            "response_url": response_url,
            "trigger_id": self._trigger_id(team),
        }
        body = urlencode(form).encode()
        return await self.post(body, retry_num=retry_num, timestamp=timestamp, signed=signed)

    async def click(
        self,
        action_id: str,
        value: str | None = None,
        *,
        message_ts: str,
        user: str = "U0DEV",
        channel: str = "C0DEPLOYS",
        block_id: str | None = None,
        response_url: str | None = None,
        ephemeral: bool = False,
        team: str = "T0TEAM",
        require_button: bool = True,
        retry_num: int | None = None,
        timestamp: int | None = None,
        signed: bool = True,
    ) -> httpx.Response:
        """A button click in the message `message_ts` (in the fake, or an ephemeral).

        The message and the button are looked up in the fake Slack, and a click on a button the
        message does not show raises LookupError, as no user could make it; `value` and
        `block_id` default to the button's. `require_button=False` skips the lookup.
        """
        message, thread_ts = self._clicked_message(channel, message_ts, ephemeral)
        button, found_block_id = _find_button(message.get("blocks") or [], action_id)
        if require_button and button is None:
            raise LookupError(f"no element with action_id {action_id!r} in message {message_ts}")
        button = button or {}
        if response_url is None:
            response_url = self.fake.new_response_url(
                channel, user, message_ts=message_ts, thread_ts=thread_ts, ephemeral=ephemeral
            )
        self.last_response_url = response_url
        container: dict[str, Any] = {
            "type": "message",
            "message_ts": message_ts,
            "channel_id": channel,
            "is_ephemeral": ephemeral,
        }
        if thread_ts is not None:
            container["thread_ts"] = thread_ts
        action = {
            "action_id": action_id,
            "block_id": block_id or found_block_id or f"blk-{action_id}",
            "text": button.get("text", {"type": "plain_text", "text": action_id, "emoji": True}),
            "value": value if value is not None else button.get("value", ""),
            "type": button.get("type", "button"),
            "action_ts": f"{time.time():.6f}",
        }
        if "style" in button:
            action["style"] = button["style"]
        payload: dict[str, Any] = {
            "type": "block_actions",
            "user": {
                "id": user,
                "username": self.fake.user_name(user),
                "name": self.fake.user_name(user),
                "team_id": team,
            },
            "api_app_id": self.api_app_id,
            "token": VERIFICATION_TOKEN,
            "container": container,
            "trigger_id": self._trigger_id(team),
            "team": {"id": team, "domain": TEAM_DOMAIN},
            "enterprise": None,
            "is_enterprise_install": False,
            "channel": {"id": channel, "name": self.fake.channel_name(channel)},
            "state": {"values": {}},
            "response_url": response_url,
            "actions": [action],
        }
        if not ephemeral:  # Slack does not echo an ephemeral message back
            payload["message"] = message
        body = urlencode({"payload": json.dumps(payload)}).encode()
        return await self.post(body, retry_num=retry_num, timestamp=timestamp, signed=signed)

    async def home_opened(self, user: str = "U0DEV", *, tab: str = "home") -> httpx.Response:
        """The Events API's `app_home_opened`, as Slack sends it when someone opens a tab."""
        event: dict[str, Any] = {
            "type": "app_home_opened",
            "user": user,
            "channel": "D" + user[1:],
            "tab": tab,
            "event_ts": f"{time.time():.6f}",
        }
        if user in self.fake.home_views:
            event["view"] = {"id": f"V{user}", "type": "home", **self.fake.home_views[user]}
        body = {
            "token": VERIFICATION_TOKEN,
            "team_id": "T0TEAM",
            "api_app_id": self.api_app_id,
            "event": event,
            "type": "event_callback",
            "event_id": f"Ev{next(self._ids):08d}",
            "event_time": int(time.time()),
            "authorizations": [{"team_id": "T0TEAM", "user_id": "U0BOT", "is_bot": True}],
        }
        return await self.post(json.dumps(body).encode(), content_type="application/json")

    async def click_home(self, action_id: str, app: str, *, user: str = "U0DEV") -> httpx.Response:
        """A click on a button of `app` on `user`'s Home tab, as published on the fake
        (block_actions from a view: no channel, no response_url)."""
        view = self.fake.home_views[user]
        mine = [b for b in view.get("blocks") or [] if b.get("block_id") == f"home:{app}"]
        button, found_block_id = _find_button(mine, action_id)
        if button is None:
            raise LookupError(f"no element with action_id {action_id!r} on {user}'s Home tab")
        payload = {
            "type": "block_actions",
            "user": {"id": user, "username": self.fake.user_name(user), "team_id": "T0TEAM"},
            "api_app_id": self.api_app_id,
            "token": VERIFICATION_TOKEN,
            "container": {"type": "view", "view_id": f"V{user}"},
            "trigger_id": self._trigger_id("T0TEAM"),
            "team": {"id": "T0TEAM", "domain": TEAM_DOMAIN},
            "is_enterprise_install": False,
            "view": {"id": f"V{user}", **view},
            "actions": [
                {
                    "action_id": action_id,
                    "block_id": found_block_id,
                    "text": button["text"],
                    "value": button.get("value", ""),
                    "type": "button",
                    "action_ts": f"{time.time():.6f}",
                }
            ],
        }
        body = urlencode({"payload": json.dumps(payload)}).encode()
        return await self.post(body)

    async def submit_view(
        self,
        view: dict[str, Any],
        values: dict[str, dict[str, str]],
        *,
        user: str = "U0DEV",
        team: str = "T0TEAM",
        retry_num: int | None = None,
    ) -> httpx.Response:
        """Send a modal the bot opened (as the fake recorded it), with `values` typed in:
        {block_id: {action_id: text}}, as Slack's view_submission carries plain text inputs."""
        state = {
            block: {action: {"type": "plain_text_input", "value": text}}
            for block, fields in values.items()
            for action, text in fields.items()
        }
        payload: dict[str, Any] = {
            "type": "view_submission",
            "team": {"id": team, "domain": TEAM_DOMAIN},
            "user": {"id": user, "username": self.fake.user_name(user), "team_id": team},
            "api_app_id": self.api_app_id,
            "token": VERIFICATION_TOKEN,
            "trigger_id": self._trigger_id(team),
            "view": {
                **{k: v for k, v in view.items() if k != "trigger_id"},
                "state": {"values": state},
                "team_id": team,
                "app_id": self.api_app_id,
            },
            "response_urls": [],
            "is_enterprise_install": False,
        }
        body = urlencode({"payload": json.dumps(payload)}).encode()
        return await self.post(body, retry_num=retry_num)

    def _clicked_message(
        self, channel: str, message_ts: str, ephemeral: bool
    ) -> tuple[dict[str, Any], str | None]:
        if ephemeral:
            shown = self.fake.ephemeral(message_ts)
            if shown is not None:
                return {"type": "message", "text": shown.text, "blocks": shown.blocks}, (
                    shown.thread_ts
                )
        else:
            stored = self.fake.message(channel, message_ts)
            if stored is not None:
                return stored.to_api(), stored.thread_ts
        return {"type": "message", "ts": message_ts, "text": "", "blocks": []}, None

    def _trigger_id(self, team: str) -> str:
        return f"{next(self._ids)}.{team}.{int(time.time() * 1000):x}"


def _find_button(blocks: list[dict[str, Any]], action_id: str) -> tuple[dict[str, Any] | None, str]:
    """The interactive element with `action_id` and its block's block_id."""
    for block in blocks:
        elements = list(block.get("elements") or [])
        if isinstance(block.get("accessory"), dict):
            elements.append(block["accessory"])
        for element in elements:
            if isinstance(element, dict) and element.get("action_id") == action_id:
                return element, str(block.get("block_id") or "")
    return None, ""
