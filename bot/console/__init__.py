"""`deploybot console`: the whole bot in a terminal, with no Slack workspace and no keys.

The same Runtime as `serve` (listeners, door, store, poller, Bolt's dispatch with signature
verification) runs against ConsoleSlack; what you type is sent to it as Slack would send it.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
from aiohttp import web
from pydantic import SecretStr
from slack_sdk.signature import SignatureVerifier

from bot import config as configuration
from bot.config import Settings
from bot.console.banner import banner
from bot.console.slack import ConsoleSlack
from bot.console.terminal import stdin_lines
from bot.console.world import EXAMPLE, HELP, NAMES, ident
from bot.runtime import Runtime


class Console:
    def __init__(self, write: Callable[[str], None]) -> None:
        self.write = write
        self.user, self.channel = "U0DEV", "C0DEPLOYS"
        self.slack = ConsoleSlack(write, NAMES)
        self._secret = secrets.token_hex(16)
        self._bot_url = ""
        self._http = httpx.AsyncClient(timeout=30)
        self._confirming: int | None = None
        self.where = ""  # which apps file and platforms: said at start and with /help

    def settings(self, settings: Settings, workdir: Path) -> Settings:
        """`serve`'s settings, pointed at the console; the operator's own values win."""
        given = settings.model_fields_set
        config = settings.deploybot_config
        if "deploybot_config" not in given:  # a deploybot.toml lying here is not reason enough
            config = workdir / "deploybot.toml"
            config.write_text(EXAMPLE, encoding="utf-8")
        update: dict[str, object] = {
            "slack_bot_token": SecretStr("xoxb-console"),
            "slack_signing_secret": SecretStr(self._secret),
            "slack_app_token": None,
            "slack_api_url": f"{self.slack.url}/api/",
            "deploybot_config": config,
        }
        if "deploybot_database_url" not in given:
            update["deploybot_database_url"] = f"sqlite:///{workdir / 'console.db'}"
        if "deploybot_poll_interval" not in given:
            update["deploybot_poll_interval"] = 1.0
        if "deploybot_channel_pace" not in given:
            update["deploybot_channel_pace"] = 0.1
        return settings.model_copy(update=update)

    async def run(self, settings: Settings, read: Callable[[], Awaitable[str]]) -> None:
        slack_runner = await _serve(self.slack.app())
        self.slack.url = _url(slack_runner)
        with tempfile.TemporaryDirectory(prefix="deploybot-console-") as workdir:
            builtin = "deploybot_config" not in settings.model_fields_set
            config = configuration.load(self.settings(settings, Path(workdir)))
            runtime = await Runtime.start(config)
            bot_runner = await _serve(runtime.web_app())
            self._bot_url = _url(bot_runner)
            self.where = banner(config, builtin=builtin)
            self.write(self.where)
            self.write(HELP)
            try:
                await self._loop(read)
            finally:
                await bot_runner.cleanup()
                await runtime.stop()
                await slack_runner.cleanup()
                await self._http.aclose()

    async def _loop(self, read: Callable[[], Awaitable[str]]) -> None:
        while True:
            self.write(
                f"@{NAMES.get(self.user, self.user)} in #{NAMES.get(self.channel, self.channel)}>"
            )
            line = await read()
            if not line:
                return
            if not await self.handle(line.strip()):
                return

    async def handle(self, line: str) -> bool:
        """One line typed; False to leave."""
        self.slack.home_wanted.clear()  # the Home tab is printed again only when asked for
        if await self._answered(line):
            return True
        word, _, rest = line.partition(" ")
        match word:
            case "":
                return True
            case "/quit" | "/exit":
                return False
            case "/help":
                self.write(HELP)
                self.write(self.where.partition("\n")[2])
            case "/as" | "/in":
                self._move(word, rest)
            case "/deploy":
                await self._command(word, rest)
            case "/home":
                await self._home()
            case _ if word.startswith("/"):
                self.write(
                    f"There is no {word} command. The bot has /deploy (try /deploy help); "
                    "this console has /home, /as, /in, /help and /quit."
                )
            case _ if word.isdigit():
                await self._button(int(word))
            case _:
                self.write("Type /deploy ..., a button's number, or /help.")
        return True

    def _move(self, word: str, rest: str) -> None:
        """/as someone else, or /in another channel."""
        if word == "/as":
            self.user = ident(rest, "U")
            self.write(f"You are @{NAMES.get(self.user, self.user)}.")
        else:
            self.channel = ident(rest.lstrip("#"), "C")
            self.write(f"You are in #{NAMES.get(self.channel, self.channel)}.")

    async def _command(self, command: str, text: str) -> None:
        form = {
            "command": command,
            "text": text,
            "user_id": self.user,
            "user_name": NAMES.get(self.user, self.user),
            "channel_id": self.channel,
            "team_id": "T0CONSOLE",
            "trigger_id": secrets.token_hex(8),
            "response_url": self.slack.response_url(self.channel, self.user),
        }
        answer = await self._send(urlencode(form).encode())
        if answer:
            self.slack.show_ephemeral(self.channel, self.user, answer)

    async def _home(self) -> None:
        """What Slack sends when someone opens the app's Home tab."""
        self.slack.want_home(self.user, again=True)
        event = {"type": "app_home_opened", "user": self.user, "tab": "home"}
        body = {
            "type": "event_callback",
            "team_id": "T0CONSOLE",
            "event": event,
            "event_id": f"Ev{secrets.token_hex(6)}",
            "event_time": int(time.time()),
        }
        await self._acked(json.dumps(body).encode(), content_type="application/json")

    async def _answered(self, line: str) -> bool:
        """The line answers what is open: a form (unless it is /as, /in, /quit), or a confirm."""
        if self.slack.form is not None and not line.startswith(("/as", "/in", "/quit", "/exit")):
            await self._fill(line)
            return True
        if self._confirming is not None:
            number, self._confirming = self._confirming, None
            if line.lower() in {"y", "yes"}:
                await self._press(number)
            else:
                self.write("Cancelled.")
            return True
        return False

    async def _fill(self, line: str) -> None:
        """The form open now: /cancel closes it; a line is its text field's value, sent."""
        form = self.slack.form
        assert form is not None
        if line == "/cancel":
            self.slack.form = None
            self.write("Form closed; nothing was done.")
            return
        field = next(b for b in form.get("blocks") or [] if b.get("type") == "input")
        action = (field.get("element") or {}).get("action_id", "")
        typed = {"type": "plain_text_input", "value": line}
        payload = {
            "type": "view_submission",
            "user": {"id": self.user, "name": NAMES.get(self.user, self.user)},
            "team": {"id": "T0CONSOLE"},
            "trigger_id": secrets.token_hex(8),
            "view": {**form, "state": {"values": {field.get("block_id"): {action: typed}}}},
        }
        acked = await self._acked(urlencode({"payload": json.dumps(payload)}).encode())
        errors = acked.get("errors")
        if isinstance(errors, dict) and errors:
            self.write("\n".join(f"The form says: {e}" for e in errors.values()))
            return
        self.slack.form = None

    async def _button(self, number: int) -> None:
        found = self.slack.buttons.get(number)
        if found is None:
            self.write(f"There is no button {number} (any more).")
            return
        _, button = found
        if button.confirm:
            self.write(f"{button.confirm} Type y to go on.")
            self._confirming = number
            return
        await self._press(number)

    async def _press(self, number: int) -> None:
        message, button = self.slack.buttons[number]
        if message.home_of is not None:
            await self._press_home(button.action_id, button.value)
            return
        container = {
            "type": "message",
            "message_ts": message.ts,
            "channel_id": message.channel,
            "is_ephemeral": message.user is not None,
        }
        if message.thread_ts:
            container["thread_ts"] = message.thread_ts
        payload = {
            "type": "block_actions",
            "user": {"id": self.user, "name": NAMES.get(self.user, self.user)},
            "team": {"id": "T0CONSOLE"},
            "channel": {"id": message.channel},
            "container": container,
            "trigger_id": secrets.token_hex(8),
            "response_url": self.slack.response_url(message.channel, self.user),
            "actions": [{"action_id": button.action_id, "value": button.value, "type": "button"}],
        }
        await self._send(urlencode({"payload": json.dumps(payload)}).encode())

    async def _press_home(self, action_id: str, value: str) -> None:
        """A click on the Home tab: no channel and no response_url; the tab is redrawn."""
        self.slack.want_home(self.user, again=False)
        payload = {
            "type": "block_actions",
            "user": {"id": self.user, "name": NAMES.get(self.user, self.user)},
            "team": {"id": "T0CONSOLE"},
            "container": {"type": "view", "view_id": f"V{self.user}"},
            "trigger_id": secrets.token_hex(8),
            "actions": [{"action_id": action_id, "value": value, "type": "button"}],
        }
        await self._send(urlencode({"payload": json.dumps(payload)}).encode())

    async def _send(self, body: bytes) -> str:
        """POST to /slack/events, signed as Slack signs; return the text the bot acked with."""
        return str((await self._acked(body)).get("text", ""))

    async def _acked(
        self, body: bytes, *, content_type: str = "application/x-www-form-urlencoded"
    ) -> dict[str, Any]:
        """POST to /slack/events, signed as Slack signs; return what the bot acked with."""
        timestamp = str(int(time.time()))
        signature = SignatureVerifier(self._secret).generate_signature(
            timestamp=timestamp, body=body.decode()
        )
        assert signature is not None
        response = await self._http.post(
            f"{self._bot_url}/slack/events",
            content=body,
            headers={
                "Content-Type": content_type,
                "X-Slack-Request-Timestamp": timestamp,
                "X-Slack-Signature": signature,
            },
        )
        if response.content and response.headers.get("content-type", "").startswith(
            "application/json"
        ):
            acked = response.json()
            return acked if isinstance(acked, dict) else {}
        return {}


async def _serve(app: web.Application) -> web.AppRunner:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    return runner


def _url(runner: web.AppRunner) -> str:
    host, port = runner.addresses[0][:2]
    return f"http://{host}:{port}"


def main(settings: Settings) -> None:
    def write(text: str) -> None:
        print(text, flush=True)  # noqa: T201 - the terminal is this command's interface

    asyncio.run(Console(write).run(settings, stdin_lines()))
