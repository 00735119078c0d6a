"""A Slack workspace in the terminal: the Web API methods deploybot calls, printed as they come.

The bot cannot tell it from Slack: it is served over HTTP on 127.0.0.1 and the bot's own
AsyncWebClient talks to it; responses to `response_url` arrive here too.
"""

from __future__ import annotations

import itertools
import json
import re
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from bot.console.render import Button, lines
from bot.console.terminal import Terminal

Json = dict[str, Any]


@dataclass
class Message:
    channel: str
    ts: str
    text: str
    blocks: list[Json]
    thread_ts: str | None = None
    user: str | None = None  # only this user sees it (an ephemeral)
    buttons: list[tuple[int, Button]] = field(default_factory=list)
    home_of: str | None = None  # a Home tab, that person's


class ConsoleSlack:
    def __init__(self, terminal: Terminal, names: dict[str, str]) -> None:
        self._terminal = terminal
        self._names = names
        self._ts = itertools.count(1)
        self._button_numbers = itertools.count(1)
        self.messages: dict[str, Message] = {}
        self.buttons: dict[int, tuple[Message, Button]] = {}
        self._numbered = 0  # the highest number a button was shown with
        self.roots: dict[str, int] = {}  # root ts -> the number people see
        self.form: Json | None = None  # the modal open now (views.open): the next line fills it
        self.url = ""
        # Whose Home tab to print when it is published: after /home or a click on it, until
        # the next line is typed (the console clears it); other refreshes are not printed.
        self.home_wanted: set[str] = set()
        self._home_shown: dict[str, list[Json]] = {}
        self._homes: dict[str, Message] = {}  # each person's Home tab, as last printed

    def name(self, ident: str) -> str:
        return self._names.get(ident, ident)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/api/{method}", self._api)
        app.router.add_get("/api/{method}", self._api)
        app.router.add_post("/response/{channel}/{user}", self._response)
        return app

    def response_url(self, channel: str, user: str) -> str:
        return f"{self.url}/response/{channel}/{user}"

    async def _api(self, request: web.Request) -> web.Response:
        args: Json = dict(request.query)
        if request.can_read_body:
            if request.content_type == "application/json":
                args |= await request.json()
            else:
                args |= dict(await request.post())
        for key in ("blocks", "metadata", "view"):
            if isinstance(args.get(key), str):
                args[key] = json.loads(args[key])
        method = request.match_info["method"]
        handler = {
            "auth.test": lambda a: {"user_id": "UBOT", "bot_id": "BBOT", "team_id": "T0CONSOLE"},
            "chat.postMessage": self._post,
            "chat.update": self._update,
            "chat.postEphemeral": self._ephemeral,
            "conversations.replies": self._replies,
            "chat.getPermalink": self._permalink,
            "views.publish": self._publish_home,
            "views.open": self._open_form,
        }.get(method)
        if handler is None:
            return web.json_response({"ok": False, "error": "unknown_method"})
        return web.json_response({"ok": True, **handler(args)})

    async def _response(self, request: web.Request) -> web.Response:
        payload = await request.json()
        channel, user = request.match_info["channel"], request.match_info["user"]
        if payload.get("response_type") == "in_channel":
            self._post({"channel": channel, **payload})
        else:
            self._ephemeral({"channel": channel, "user": user, **payload})
        return web.Response(text="ok")

    def _new(self, args: Json, *, user: str | None = None) -> Message:
        message = Message(
            channel=args["channel"],
            ts=f"{next(self._ts)}.000000",
            text=args.get("text") or "",
            blocks=args.get("blocks") or [],
            thread_ts=args.get("thread_ts"),
            user=user,
        )
        self.messages[message.ts] = message
        return message

    def _post(self, args: Json) -> Json:
        message = self._new(args)
        if message.channel[:1] in {"U", "W"}:  # Slack's DM of the app with that person
            self._show(message, "", head=f"direct message to @{self.name(message.channel)}")
            return {"channel": "D" + message.channel[1:], "ts": message.ts}
        if message.thread_ts is None:
            self.roots[message.ts] = len(self.roots) + 1
        self._show(message, "")
        return {"channel": message.channel, "ts": message.ts, "message": {"ts": message.ts}}

    def want_home(self, user: str, *, again: bool) -> None:
        """Print `user`'s Home tab when next published; `again`: even if it did not change."""
        self.home_wanted.add(user)
        if again:
            self._home_shown.pop(user, None)

    def _publish_home(self, args: Json) -> Json:
        user = str(args.get("user_id") or "")
        view = args.get("view")
        if isinstance(view, str):
            view = json.loads(view)
        if not isinstance(view, dict):
            return {"ok": False}
        blocks = view.get("blocks") or []
        if user in self.home_wanted and self._home_shown.get(user) != blocks:
            self._home_shown[user] = blocks
            message = self._homes.setdefault(user, Message(user, "", "", [], home_of=user))
            message.blocks = blocks
            self._show(message, "", head=f"@{self.name(user)}'s Home tab")
        return {"view": {"type": "home"}}

    def _update(self, args: Json) -> Json:
        message = self.messages.get(args.get("ts", ""))
        if message is None:
            raise web.HTTPOk(text=json.dumps({"ok": False, "error": "message_not_found"}))
        message.text = args.get("text") or message.text
        message.blocks = args.get("blocks", message.blocks)
        self._show(message, "edited")
        return {"channel": message.channel, "ts": message.ts}

    def _ephemeral(self, args: Json) -> Json:
        message = self._new(args, user=args["user"])
        self._show(message, "")
        return {"message_ts": message.ts}

    def _replies(self, args: Json) -> Json:
        root = args.get("ts")
        thread = [m for m in self.messages.values() if root in {m.ts, m.thread_ts} and not m.user]
        return {"messages": [{"ts": m.ts, "text": m.text} for m in thread]}

    def _permalink(self, args: Json) -> Json:
        """Where Slack's permalink would lead; printed as that thread's name (see _link)."""
        channel, ts = args.get("channel", ""), args.get("message_ts", "")
        return {"channel": channel, "permalink": f"{self.url}/archives/{channel}/p{ts}"}

    def _link(self, url: str, label: str | None) -> str:
        """A link as printed: one to a thread of this workspace says which, as the heads do."""
        found = re.fullmatch(rf"{re.escape(self.url)}/archives/(\w+)/p([\d.]+)", url)
        if found is None:
            return label or url
        channel, ts = found.groups()
        thread = f"#{self.name(channel)} thread {self.roots.get(ts, '?')}"
        return f"{label} [{thread}]" if label else thread

    def _show(self, message: Message, how: str, *, head: str | None = None) -> None:
        # A button keeps its number while it exists: an edit that shows it again (a queued
        # root as the line moves) gives it the number it had; those it drops are gone.
        kept = {(b.action_id, b.value): n for n, b in message.buttons}
        for gone, _ in message.buttons:
            self.buttons.pop(gone, None)

        def number(button: Button) -> int:
            return kept.pop((button.action_id, button.value), None) or next(self._button_numbers)

        body, message.buttons = lines(message.blocks, message.text, self.name, number, self._link)
        for given, button in message.buttons:
            self.buttons[given] = (message, button)
            self._numbered = max(self._numbered, given)
        self._terminal.box(head or self._head(message, how), body)

    def any_more(self, number: int) -> str:
        """ " any more" after a button's number that was shown once and is gone; nothing after
        one never shown."""
        return " any more" if 0 < number <= self._numbered else ""

    def _head(self, message: Message, how: str) -> str:
        where = f"#{self.name(message.channel)}"
        if message.user:
            return f"{where} (only @{self.name(message.user)} sees this)"
        if message.thread_ts:
            reply = f"{where} thread {self.roots.get(message.thread_ts, '?')}"
            return f"{reply}, a reply {how}" if how else reply  # the prompt, its buttons gone
        return f"{where} message {self.roots[message.ts]}{' ' + how if how else ''}"

    def _open_form(self, args: Json) -> Json:
        """A modal: shown as a form whose one text field the next typed line fills."""
        view: Json = args.get("view") or {}
        self.form = view
        title = (view.get("title") or {}).get("text", "")
        shown_blocks = [b for b in view.get("blocks") or [] if b.get("type") != "input"]
        body, _ = lines(shown_blocks, "", self.name, lambda _: 0, self._link)
        labels = [
            (b.get("label") or {}).get("text", "")
            for b in view.get("blocks") or []
            if b.get("type") == "input"
        ]
        body += [f"{label} Type it and press Enter (/cancel closes the form)." for label in labels]
        self._terminal.box(f"form: {title}", body)
        return {"view": {**view, "id": "VCONSOLE"}}

    def show_ephemeral(self, channel: str, user: str, text: str) -> None:
        """An answer the bot gave in its ack (usage, help): shown to the one who typed."""
        self._ephemeral({"channel": channel, "user": user, "text": text})
