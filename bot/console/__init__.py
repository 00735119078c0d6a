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
from pathlib import Path
from urllib.parse import urlencode

from bot import config as configuration
from bot.commands.usage import ascii_int
from bot.config.settings import Settings
from bot.console.banner import banner
from bot.console.signed import SignedPoster
from bot.console.slack import ConsoleSlack
from bot.console.terminal import Terminal, terminal
from bot.console.wiring import console_settings, serve, url
from bot.console.world import HELP, NAMES, channels, find, listed, people
from bot.models import Status
from bot.runtime import Runtime

SETTLE_WITHIN = 120.0  # seconds a piped line's deployments may take to rest
SETTLE_EVERY = 0.1


class Console:
    def __init__(self, terminal: Terminal) -> None:
        self.terminal = terminal
        self.write = terminal.say
        self.user, self.channel = "U0DEV", "C0DEPLOYS"
        self.slack = ConsoleSlack(terminal, NAMES)
        self._bot = SignedPoster(secrets.token_hex(16))  # to the bot, as Slack sends
        self._runtime: Runtime | None = None
        self._confirming: int | None = None
        self._people: list[str] = []  # whom /as can make you, and where /in can take you
        self._channels: list[str] = []
        self.where = ""  # which apps file and platforms: said at start and with /help

    async def run(self, settings: Settings) -> None:
        slack_runner = await serve(self.slack.app())
        self.slack.url = url(slack_runner)
        with tempfile.TemporaryDirectory(prefix="deploybot-console-") as workdir:
            builtin = "deploybot_config" not in settings.model_fields_set
            pointed = console_settings(
                settings, Path(workdir), secret=self._bot.secret, slack_url=self.slack.url
            )
            config = configuration.load(pointed)
            self._people, self._channels = people(config), channels(config)
            runtime = self._runtime = await Runtime.start(config)
            bot_runner = await serve(runtime.web_app())
            self._bot.url = url(bot_runner)
            self.where = banner(config, builtin=builtin)
            self.write(self.where)
            self.write(HELP)
            try:
                await self._loop()
            finally:
                await bot_runner.cleanup()
                await runtime.stop()
                await slack_runner.cleanup()
                await self._bot.close()

    async def _loop(self) -> None:
        while True:
            prompt = (
                f"@{NAMES.get(self.user, self.user)} in #{NAMES.get(self.channel, self.channel)}>"
            )
            line = await self.terminal.read(prompt)
            if line is None or not await self.handle(line.strip()):
                return
            await self._settled()

    async def _settled(self) -> None:
        """What a line started is done before the next is read: the work the bot acknowledged
        (so lines pasted at once run in their order), and piped, every deployment it moved until
        it rests (live, failed, or waiting for a person), so a transcript reads in order."""
        runtime = self._runtime
        if runtime is None:
            return
        await runtime.door.drain()
        if not self.terminal.transcript:
            return
        loop = asyncio.get_running_loop()
        until = loop.time() + SETTLE_WITHIN
        while loop.time() < until and any(  # noqa: ASYNC110 - the rows rest in the store: read
            not (row.pending and row.status is Status.READY)  # built, waiting for its approver
            for row in await runtime.store.in_flight()
        ):
            await asyncio.sleep(SETTLE_EVERY)  # the poller moves them, on its own schedule
        await runtime.door.drain()
        await runtime.outbox.idle()

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
            case _ if (number := ascii_int(word, digits=6)) is not None:
                await self._button(number)
            case _:
                self.write("Type /deploy ..., a button's number, or /help.")
        return True

    def _move(self, word: str, rest: str) -> None:
        """/as someone else, or /in another channel: one this workspace or the apps file knows."""
        if word == "/as":
            user = find(rest, self._people)
            if user is None:
                said = f"There is nobody called {rest.strip()} here. " if rest.strip() else ""
                self.write(f"{said}Type /as and one of: {listed(self._people)}.")
                return
            self.user = user
            self.write(f"You are @{NAMES.get(self.user, self.user)}.")
        else:
            channel = find(rest, self._channels)
            if channel is None:
                said = f"There is no channel {rest.strip()} here. " if rest.strip() else ""
                self.write(f"{said}Type /in and one of: {listed(self._channels)}.")
                return
            self.channel = channel
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
        answer = await self._bot.text(urlencode(form).encode())
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
        await self._bot.post(json.dumps(body).encode(), content_type="application/json")

    async def _answered(self, line: str) -> bool:
        """The line answers what is open: a form (unless it is /as, /in, /quit), or a confirm."""
        if self.slack.form is not None and not line.startswith(("/as", "/in", "/quit", "/exit")):
            await self._fill(line)
            return True
        if self._confirming is not None:
            number, self._confirming = self._confirming, None
            if line.lower() in {"y", "yes"}:
                await self._press(number)
                return True
            self.write("Cancelled.")
            return line.lower() in {"", "n", "no"}  # anything else is read as typed
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
        acked = await self._bot.post(urlencode({"payload": json.dumps(payload)}).encode())
        errors = acked.get("errors")
        if isinstance(errors, dict) and errors:
            self.write("\n".join(f"The form says: {e}" for e in errors.values()))
            return
        self.slack.form = None

    async def _button(self, number: int) -> None:
        found = self.slack.buttons.get(number)
        if found is None:
            self.write(f"There is no button {number}{self.slack.any_more(number)}.")
            return
        _, button = found
        if button.confirm:
            self.write(f"{button.confirm} Type y to go on; anything else cancels.")
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
        await self._bot.text(urlencode({"payload": json.dumps(payload)}).encode())

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
        await self._bot.text(urlencode({"payload": json.dumps(payload)}).encode())


def main(settings: Settings) -> None:
    with terminal() as this:
        asyncio.run(Console(this).run(settings))
