"""A fake Slack Web API, served over real HTTP for slack_sdk's `AsyncWebClient`.

    fake = FakeSlack(token="xoxb-test-token")
    async with serving(fake.app()) as served:
        fake.bind(served.url)
        client = AsyncWebClient(token="xoxb-test-token", base_url=fake.api_url)

It keeps a small model of what a channel would show (messages, threads, edits, ephemerals,
response_url posts), records every call, validates what Slack validates cheaply, and lets a test
inject the failures Slack is known for (not_in_channel, 429 with Retry-After, 5xx).

Message metadata (`{"event_type": ..., "event_payload": {...}}`) posted with chat.postMessage is
kept on the message (chat.update replaces it when given one) and shown by conversations.replies
and conversations.history only with `include_all_metadata`, as Slack does.

`delay(method, seconds)` and `hold(method)` / `release()` hold back the HTTP answer of a call
that has already been carried out: the message is stored and visible, but the caller does not
hear so, as when the bot is killed mid-call. Held answers are let go when the server shuts down.

How slack_sdk talks to it (3.x): `chat.*` methods send a JSON body; `auth.test` is a POST whose
arguments travel in the query string with an empty form body; `conversations.info`,
`conversations.replies`, `conversations.history` and `users.info` are GETs with query arguments;
`api_call(..., data=...)` sends a form body where `blocks` is a JSON string. The token always
travels in `Authorization: Bearer ...`; a `token` argument is accepted too, as Slack does.
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from aiohttp import web
from multidict import CIMultiDict

from tests.fakes.block_kit import message_errors, view_errors
from tests.fakes.clock import MANUAL_CLOCK_START, Clock
from tests.fakes.slack_limits import SlackLimits

BOT_USER_ID = "UBOT"
BOT_ID = "BBOT"
APP_ID = "A0DEPLOYBOT"
TEAM_ID = "T0TEAM"
TEAM_NAME = "Acme"
TEAM_DOMAIN = "acme"
TEAM_URL = "https://acme.slack.com/"
DEFAULT_TOKEN = "xoxb-test-token"

# Slack's documented Block Kit limits are checked by tests/fakes/block_kit.py.
MAX_REPLIES_LIMIT = 1000  # conversations.replies: the default and the most a page holds

_JSON_ARGS = ("blocks", "attachments", "metadata")
_TS_STEP_MICROS = 100

Block = dict[str, Any]
Json = dict[str, Any]
Handler = Callable[[Json], Json]


class SlackError(Exception):
    """Raised by a method handler: becomes HTTP 200 {"ok": false, "error": ...}."""

    def __init__(self, error: str, **extra: Any) -> None:
        super().__init__(error)
        self.error = error
        self.extra = extra


@dataclass
class Call:
    """One request to /api/{method}, as the fake received it."""

    method: str
    args: dict[str, Any]
    headers: Mapping[str, str]  # case-insensitive
    status: int = 200
    response: Json = field(default_factory=dict)
    at: float = field(default_factory=time.monotonic)  # when it arrived, for pacing checks

    @property
    def ok(self) -> bool:
        return self.status == 200 and bool(self.response.get("ok"))


@dataclass
class Message:
    channel: str
    ts: str
    text: str
    blocks: list[Block]
    thread_ts: str | None = None  # None for a root message
    user: str = BOT_USER_ID
    #: Every version of (text, blocks), oldest first; the last one is the current content.
    history: list[tuple[str, list[Block]]] = field(default_factory=list)
    reactions: list[str] = field(default_factory=list)
    #: Slack message metadata: {"event_type": str, "event_payload": dict}, or None.
    metadata: Json | None = None

    def __post_init__(self) -> None:
        if not self.history:
            self.history.append((self.text, self.blocks))

    @property
    def is_reply(self) -> bool:
        return self.thread_ts is not None

    @property
    def edit_count(self) -> int:
        return len(self.history) - 1

    @property
    def all_text(self) -> str:
        """The text plus every piece of text in the blocks, one part per line."""
        return flatten_text(self.text, self.blocks)

    def edit(self, text: str, blocks: list[Block]) -> None:
        self.text, self.blocks = text, blocks
        self.history.append((text, blocks))

    def to_api(self, *, include_metadata: bool = False) -> Json:
        """The message as Slack's API and interactivity payloads show it.

        Metadata is shown only when asked for (`include_all_metadata` on a read).
        """
        message: Json = {"type": "message", "user": self.user, "text": self.text, "ts": self.ts}
        if self.user == BOT_USER_ID:
            message |= {"bot_id": BOT_ID, "app_id": APP_ID}
        message["team"] = TEAM_ID
        if self.blocks:
            message["blocks"] = self.blocks
        if self.thread_ts is not None:
            message["thread_ts"] = self.thread_ts
        if self.edit_count:
            message["edited"] = {"user": self.user, "ts": self.ts}
        if self.reactions:
            message["reactions"] = [
                {"name": name, "users": [BOT_USER_ID], "count": 1} for name in self.reactions
            ]
        if include_metadata and self.metadata is not None:
            message["metadata"] = self.metadata
        return message


@dataclass
class Ephemeral:
    channel: str
    user: str
    text: str
    blocks: list[Block]
    ts: str = ""
    thread_ts: str | None = None

    @property
    def all_text(self) -> str:
        return flatten_text(self.text, self.blocks)


@dataclass
class _Fault:
    method: str  # "*" matches every method
    kind: Literal["error", "rate_limit", "server_error"]
    times: int
    error: str = ""
    channel: str | None = None
    retry_after: int = 1
    status: int = 200
    with_blocks: bool = False  # only calls that carry blocks

    def matches(self, method: str, args: Mapping[str, Any]) -> bool:
        if self.times <= 0 or self.method not in (method, "*"):
            return False
        if self.with_blocks and not args.get("blocks"):
            return False
        return self.channel is None or args.get("channel") == self.channel


@dataclass
class _Hold:
    """Answers of the next `times` calls of `method` wait `seconds`, or until release()."""

    method: str  # "*" matches every method
    times: int
    seconds: float | None  # None: until release()
    in_thread: bool = False  # only replies in a thread
    released: asyncio.Event = field(default_factory=asyncio.Event)

    def matches(self, method: str, args: Mapping[str, Any]) -> bool:
        if self.times <= 0 or self.method not in (method, "*"):
            return False
        return not self.in_thread or bool(args.get("thread_ts"))

    async def wait(self) -> None:
        if self.seconds is None:
            await self.released.wait()
            return
        try:
            async with asyncio.timeout(self.seconds):
                await self.released.wait()
        except TimeoutError:
            pass


@dataclass
class _ResponseTarget:
    """Where a response_url's posts land: the command's channel, or the clicked message."""

    channel: str
    user: str
    message_ts: str | None = None
    thread_ts: str | None = None
    ephemeral: bool = False
    expired: bool = False  # Slack's response_url works for 30 minutes


class FakeSlack:
    """Fake Slack Web API plus response_url endpoint; see the module docstring."""

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        *,
        clock: Clock | None = None,
        limits: SlackLimits | None = None,
    ) -> None:
        self.token = token
        #: Slack's rate limits, enforced with 429s when given (off by default, as most tests
        #: are about other things).
        self.limits = limits
        self.app_tokens: set[str] = set()  # app-level (xapp-) tokens, for Socket Mode
        self.clock = clock
        self.base_url: str | None = None

        self.calls: list[Call] = []
        #: The Web API calls and the response_url posts (method "response_url"), in the order
        #: they arrived: what a person saw first.
        self.timeline: list[Call] = []
        self.messages: dict[str, list[Message]] = {}
        self.ephemerals: list[Ephemeral] = []
        #: Each person's Home tab as last published (views.publish), and how many times.
        self.home_views: dict[str, Json] = {}
        self.home_publishes: dict[str, int] = {}
        self.responses: dict[str, list[Json]] = {}

        self.not_in_channels: set[str] = set()
        self.unknown_channels: set[str] = set()
        self.archived_channels: set[str] = set()
        #: Private channels: one the bot is not in (`not_in_channels`) is `channel_not_found`
        #: to it, as Slack hides a private channel from whoever is not a member.
        self.private_channels: set[str] = set()
        #: Who is in a channel, for channels a test names here: chat.postEphemeral to anyone
        #: else there answers `user_not_in_channel` ("Intended recipient is not in the
        #: specified channel"). A channel not named here has everyone in it.
        self.members: dict[str, set[str]] = {}
        self.unknown_users: set[str] = set()
        self.channel_names: dict[str, str] = {"C0DEPLOYS": "deploys"}
        self.user_names: dict[str, str] = {BOT_USER_ID: "deploybot"}

        self._faults: list[_Fault] = []
        self._outages: list[tuple[tuple[str, ...], Callable[[], bool], int]] = []
        self._drops: list[list[Any]] = []  # [method, times left, replies only]
        self._holds: list[_Hold] = []
        #: Calls carried out whose connection was then dropped without an answer (`drop`).
        self.dropped: list[Call] = []
        #: Calls carried out whose HTTP answer is being held back right now (delay/hold).
        self.held: list[Call] = []
        self._response_targets: dict[str, _ResponseTarget] = {}
        self._last_ts_micros = int(MANUAL_CLOCK_START * 1_000_000)
        self._handlers: dict[str, Handler] = {
            "auth.test": self._auth_test,
            "chat.postMessage": self._chat_post_message,
            "chat.update": self._chat_update,
            "chat.delete": self._chat_delete,
            "chat.postEphemeral": self._chat_post_ephemeral,
            "chat.getPermalink": self._chat_get_permalink,
            "conversations.info": self._conversations_info,
            "conversations.history": self._conversations_history,
            "conversations.replies": self._conversations_replies,
            "users.info": self._users_info,
            "reactions.add": self._reactions_add,
            "views.publish": self._views_publish,
            "views.open": self._views_open,
        }
        #: Modals opened with views.open, oldest first: the view as the bot sent it.
        self.views_opened: list[Json] = []

    # ---------------------------------------------------------------- serving

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_route("POST", "/api/{method}", self._handle_api)
        app.router.add_route("GET", "/api/{method}", self._handle_api)
        app.router.add_post("/response/{id}", self._handle_response_url)
        app.on_shutdown.append(self._release_on_shutdown)
        return app

    def bind(self, url: str) -> None:
        """Tell the fake where it is served, e.g. `fake.bind(served.url)`."""
        self.base_url = url.rstrip("/")

    @property
    def api_url(self) -> str:
        """The `base_url` for AsyncWebClient: `<served url>/api/`."""
        return f"{self._bound_url()}/api/"

    def response_url(self, response_id: str) -> str:
        return f"{self._bound_url()}/response/{response_id}"

    def new_response_url(
        self,
        channel: str,
        user: str,
        *,
        message_ts: str | None = None,
        thread_ts: str | None = None,
        ephemeral: bool = False,
    ) -> str:
        """A fresh response_url whose posts land in `channel` (or edit the clicked message)."""
        response_id = str(len(self._response_targets) + 1)
        self._response_targets[response_id] = _ResponseTarget(
            channel, user, message_ts, thread_ts, ephemeral
        )
        self.responses.setdefault(response_id, [])
        return self.response_url(response_id)

    def expire_response_urls(self) -> None:
        """Every response_url given so far stops working, as Slack's do after 30 minutes."""
        for target in self._response_targets.values():
            target.expired = True

    def on(self, method: str, handler: Handler) -> None:
        """Serve (or override) a method: `handler(args)` returns the body; raise SlackError."""
        self._handlers[method] = handler

    # ---------------------------------------------------------------- faults

    def fail(
        self, method: str, error: str = "not_in_channel", times: int = 1, channel: str | None = None
    ) -> None:
        """The next `times` calls of `method` (in `channel`, if given) answer ok=false `error`."""
        self._faults.append(_Fault(method, "error", times, error=error, channel=channel))

    def refuse_blocks(self, error: str = "invalid_blocks", times: int = 1) -> None:
        """The next `times` calls that carry blocks answer ok=false `error`, whatever the blocks
        (as Slack does for a limit this fake does not check); the same text alone is taken."""
        self._faults.append(_Fault("*", "error", times, error=error, with_blocks=True))

    def rate_limit(self, method: str, retry_after: int = 1, times: int = 1) -> None:
        """The next `times` calls of `method` answer HTTP 429 with a Retry-After header."""
        self._faults.append(_Fault(method, "rate_limit", times, retry_after=retry_after))

    def server_error(self, method: str, status: int = 503, times: int = 1) -> None:
        """The next `times` calls of `method` answer HTTP `status` with an HTML body."""
        self._faults.append(_Fault(method, "server_error", times, status=status))

    def down_while(
        self, methods: tuple[str, ...], down: Callable[[], bool], status: int = 503
    ) -> None:
        """Every call of `methods` answers HTTP `status` while `down()` holds: an outage of
        Slack's, timed by whatever clock `down` reads (a test's fake time)."""
        self._outages.append((methods, down, status))

    # ---------------------------------------------------------------- held answers

    def delay(self, method: str, seconds: float, times: int = 1) -> None:
        """The next `times` calls of `method` are carried out at once, answered `seconds` later.

        The message is stored and visible meanwhile: the caller only does not hear so, as when
        it is killed mid-call. `release()` lets them go early.
        """
        if times < 1:
            raise ValueError("times must be at least 1")
        self._holds.append(_Hold(method, times, seconds))

    def hold(self, method: str, times: int = 1, *, in_thread: bool = False) -> None:
        """Like `delay`, but the answers wait until `release()` (or the server shuts down);
        `in_thread`: only replies in a thread are held."""
        if times < 1:
            raise ValueError("times must be at least 1")
        self._holds.append(_Hold(method, times, None, in_thread))

    def drop(self, method: str, times: int = 1, *, in_thread: bool = False) -> None:
        """The next `times` calls of `method` (replies in a thread only, if `in_thread`) are
        carried out, then their connection is closed without an answer: the caller cannot tell
        whether they happened, as when a network drops mid-call."""
        if times < 1:
            raise ValueError("times must be at least 1")
        self._drops.append([method, times, in_thread])

    def _take_drop(self, method: str, args: Mapping[str, Any]) -> bool:
        for drop in self._drops:
            name, times, in_thread = drop
            if times > 0 and name == method and (not in_thread or args.get("thread_ts")):
                drop[1] = times - 1
                return True
        return False

    def release(self) -> None:
        """Answer every held call now, and forget holds and delays no call has used yet."""
        for hold in self._holds:
            hold.released.set()
        self._holds.clear()

    async def _release_on_shutdown(self, _: web.Application) -> None:
        self.release()

    def _take_hold(self, method: str, args: Mapping[str, Any]) -> _Hold | None:
        hold = next((h for h in self._holds if h.matches(method, args)), None)
        if hold is not None:
            hold.times -= 1
        return hold

    # ---------------------------------------------------------------- queries

    def calls_to(self, method: str) -> list[Call]:
        return [call for call in self.calls if call.method == method]

    def root_messages(self, channel: str) -> list[Message]:
        return [m for m in self.messages.get(channel, []) if m.thread_ts is None]

    def thread(self, channel: str, ts: str) -> list[Message]:
        """The replies under the root message `ts`, oldest first (the root is not included)."""
        return [m for m in self.messages.get(channel, []) if m.thread_ts == ts]

    def message(self, channel: str, ts: str) -> Message | None:
        return next((m for m in self.messages.get(channel, []) if m.ts == ts), None)

    def ephemeral(self, ts: str) -> Ephemeral | None:
        return next((e for e in self.ephemerals if e.ts == ts), None)

    def ephemerals_for(self, user: str, channel: str | None = None) -> list[Ephemeral]:
        return [e for e in self.ephemerals if e.user == user and channel in (None, e.channel)]

    def texts_in_thread(self, channel: str, ts: str) -> list[str]:
        """Each reply's text and block text flattened into one string per reply."""
        return [m.all_text for m in self.thread(channel, ts)]

    def dm_channel(self, user: str) -> str:
        """The ID of the app's direct-message conversation with `user`."""
        return "D" + user[1:]

    def channel_name(self, channel: str) -> str:
        return self.channel_names.get(channel, channel.lower())

    def user_name(self, user: str) -> str:
        """`U0ALICE` -> `alice`; other ids are lowercased; `user_names` overrides."""
        if user in self.user_names:
            return self.user_names[user]
        return user[2:].lower() if user.startswith("U0") and len(user) > 2 else user.lower()

    def seed_message(
        self,
        channel: str,
        text: str,
        *,
        user: str = "U0DEV",
        blocks: list[Block] | None = None,
        thread_ts: str | None = None,
    ) -> Message:
        """Put a message in a channel as if someone else had posted it."""
        return self._store(channel, text, blocks or [], thread_ts, user)

    # ---------------------------------------------------------------- HTTP handlers

    async def _handle_api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        call = Call(method, {}, CIMultiDict(request.headers))
        self.calls.append(call)
        self.timeline.append(call)
        response = await self._answer_api(method, call, request)
        if call.response.get("ok") and self._take_drop(method, call.args):
            self.dropped.append(call)
            assert request.transport is not None
            request.transport.abort()  # done, and never answered
            return response
        hold = self._take_hold(method, call.args)
        if hold is not None:
            self.held.append(call)
            try:
                await hold.wait()
            finally:
                self.held.remove(call)
        return response

    async def _answer_api(self, method: str, call: Call, request: web.Request) -> web.Response:
        try:
            call.args = await _read_args(request)
            self._authenticate(request, call.args, method)
            fault_response = self._take_fault(method, call.args)
            if fault_response is not None:
                status, body, headers = fault_response
                call.status, call.response = status, body
                if status >= 500:
                    return web.Response(
                        status=status,
                        text="<html>Service Unavailable</html>",
                        headers=headers,
                        content_type="text/html",
                    )
                return web.json_response(body, status=status, headers=headers)
            call.response = {"ok": True} | self._dispatch(method, call.args)
        except SlackError as error:
            call.response = {"ok": False, "error": error.error} | error.extra
        return web.json_response(call.response)

    async def _handle_response_url(self, request: web.Request) -> web.Response:
        response_id = request.match_info["id"]
        try:
            payload = await request.json()
        except json.JSONDecodeError:
            return web.Response(status=400, text="invalid_payload")
        if not isinstance(payload, dict):
            return web.Response(status=400, text="invalid_payload")
        self.responses.setdefault(response_id, []).append(payload)
        self.timeline.append(Call("response_url", payload, request.headers))
        target = self._response_targets.get(response_id)
        if target is None:
            return web.Response(status=404, text="no_such_response_url")
        if target.expired:
            return web.json_response({"ok": False, "error": "expired_url"}, status=404)
        blocks = payload.get("blocks") or []
        refused = message_errors(payload.get("text"), blocks)
        if refused:
            return web.Response(status=400, text=refused[0])
        self._apply_response(target, payload, str(payload.get("text") or ""), blocks)
        return web.Response(text="ok")

    # ---------------------------------------------------------------- plumbing

    def _bound_url(self) -> str:
        if self.base_url is None:
            raise RuntimeError("FakeSlack is not bound yet: call fake.bind(served.url)")
        return self.base_url

    def _dispatch(self, method: str, args: Json) -> Json:
        handler = self._handlers.get(method)
        if handler is None:
            raise SlackError("unknown_method")
        return handler(args)

    def _authenticate(
        self, request: web.Request, args: Mapping[str, Any], method: str = ""
    ) -> None:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token:
            token = str(args.get("token") or "")
        # Socket Mode's connection is opened with the app-level token, everything else the bot's.
        expected = self.app_tokens if method == "apps.connections.open" else {self.token}
        if token not in expected:
            raise SlackError("invalid_auth")

    def _take_fault(
        self, method: str, args: Mapping[str, Any]
    ) -> tuple[int, Json, dict[str, str]] | None:
        for methods, down, status in self._outages:
            if method in methods and down():
                return status, {"ok": False, "error": "service_unavailable"}, {}
        fault = next((f for f in self._faults if f.matches(method, args)), None)
        if fault is None:
            wait = (
                self.limits.retry_after(method, str(args.get("channel"))) if self.limits else None
            )
            if wait is not None:
                return 429, {"ok": False, "error": "ratelimited"}, {"Retry-After": str(wait)}
            return None
        fault.times -= 1
        if fault.kind == "rate_limit":
            headers = {"Retry-After": str(fault.retry_after)}
            return 429, {"ok": False, "error": "ratelimited"}, headers
        if fault.kind == "server_error":
            return fault.status, {"ok": False, "error": "fatal_error"}, {}
        return 200, {"ok": False, "error": fault.error}, {}

    def _next_ts(self) -> str:
        now_micros = int(self.clock.now() * 1_000_000) if self.clock else 0
        micros = max(now_micros, self._last_ts_micros + _TS_STEP_MICROS)
        self._last_ts_micros = micros
        return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"

    def _store(
        self, channel: str, text: str, blocks: list[Block], thread_ts: str | None, user: str
    ) -> Message:
        if thread_ts is not None:
            parent = self.message(channel, thread_ts)
            if parent is not None and parent.thread_ts is not None:
                thread_ts = parent.thread_ts  # a reply to a reply lands in the same thread
        message = Message(channel, self._next_ts(), text, blocks, thread_ts, user)
        self.messages.setdefault(channel, []).append(message)
        return message

    def _channel(self, args: Mapping[str, Any]) -> str:
        channel = str(args.get("channel") or "")
        if not channel:
            raise SlackError("channel_not_found")
        if channel.startswith("#"):  # Slack accepts a name for posting and answers with the id
            name = channel[1:]
            channel = next((i for i, n in self.channel_names.items() if n == name), channel)
        if channel in self.unknown_channels:
            raise SlackError("channel_not_found")
        if channel in self.private_channels and channel in self.not_in_channels:
            raise SlackError("channel_not_found")
        if channel[0] in "UW":  # a user ID: Slack posts in the app's DM with that person
            return self.dm_channel(channel)
        return channel

    def _existing_message(self, channel: str, ts: Any) -> Message:
        message = self.message(channel, str(ts or ""))
        if message is None:
            raise SlackError("message_not_found")
        return message

    def _content(self, args: Mapping[str, Any]) -> tuple[str, list[Block]]:
        """Validated text and blocks of a chat.* call."""
        text = str(args.get("text") or "")
        blocks = args.get("blocks") or []
        if not text and not blocks and not args.get("attachments"):
            raise SlackError("no_text")
        refused = message_errors(text, blocks)
        if refused:
            code, errors = refused
            raise SlackError(code, errors=errors)
        return text, blocks

    def _apply_response(
        self, target: _ResponseTarget, payload: Json, text: str, blocks: list[Block]
    ) -> None:
        """What Slack does with a response_url post."""
        if target.message_ts is not None and _truthy(payload.get("delete_original")):
            original = self.message(target.channel, target.message_ts)
            if original is not None:
                self.messages[target.channel].remove(original)
            return
        if target.message_ts is not None and _truthy(payload.get("replace_original")):
            if target.ephemeral:
                ephemeral = self.ephemeral(target.message_ts)
                if ephemeral is not None:
                    ephemeral.text, ephemeral.blocks = text, blocks
            else:
                original = self.message(target.channel, target.message_ts)
                if original is not None:
                    original.edit(text, blocks)
            return
        thread_ts = payload.get("thread_ts") or target.thread_ts
        if payload.get("response_type") == "in_channel":
            self._store(target.channel, text, blocks, thread_ts, BOT_USER_ID)
        else:
            self.ephemerals.append(
                Ephemeral(target.channel, target.user, text, blocks, self._next_ts(), thread_ts)
            )

    # ---------------------------------------------------------------- methods

    def _auth_test(self, args: Json) -> Json:
        return {
            "url": TEAM_URL,
            "team": TEAM_NAME,
            "user": self.user_name(BOT_USER_ID),
            "team_id": TEAM_ID,
            "user_id": BOT_USER_ID,
            "bot_id": BOT_ID,
            "is_enterprise_install": False,
        }

    def _chat_post_message(self, args: Json) -> Json:
        channel = self._channel(args)
        if channel in self.not_in_channels:
            raise SlackError("not_in_channel")
        if channel in self.archived_channels:
            raise SlackError("is_archived")
        text, blocks = self._content(args)
        metadata = _metadata(args)
        thread_ts = args.get("thread_ts")
        message = self._store(
            channel, text, blocks, str(thread_ts) if thread_ts else None, BOT_USER_ID
        )
        message.metadata = metadata
        return {"channel": channel, "ts": message.ts, "message": message.to_api()}

    def _chat_update(self, args: Json) -> Json:
        channel = self._channel(args)
        message = self._existing_message(channel, args.get("ts"))
        if message.user != BOT_USER_ID:
            raise SlackError("cant_update_message")
        merged = {"text": message.text, "blocks": message.blocks} | {
            k: args[k] for k in ("text", "blocks", "attachments") if k in args
        }
        text, blocks = self._content(merged)
        metadata = _metadata(args)
        message.edit(text, blocks)
        if metadata is not None:
            message.metadata = metadata
        return {"channel": channel, "ts": message.ts, "text": text, "message": message.to_api()}

    def _chat_delete(self, args: Json) -> Json:
        channel = self._channel(args)
        message = self._existing_message(channel, args.get("ts"))
        if message.user != BOT_USER_ID:
            raise SlackError("cant_delete_message")
        self.messages[channel].remove(message)
        return {"channel": channel, "ts": message.ts}

    def _chat_post_ephemeral(self, args: Json) -> Json:
        channel = self._channel(args)
        if channel in self.not_in_channels:
            raise SlackError("not_in_channel")
        user = str(args.get("user") or "")
        if not user or user in self.unknown_users:
            raise SlackError("user_not_found")
        if channel in self.members and user not in self.members[channel]:
            raise SlackError("user_not_in_channel")
        text, blocks = self._content(args)
        thread_ts = args.get("thread_ts")
        ephemeral = Ephemeral(
            channel, user, text, blocks, self._next_ts(), str(thread_ts) if thread_ts else None
        )
        self.ephemerals.append(ephemeral)
        return {"message_ts": ephemeral.ts}

    def _views_publish(self, args: Json) -> Json:
        user = str(args.get("user_id") or "")
        if not user or user in self.unknown_users:
            raise SlackError("user_not_found")
        view = args.get("view")
        if isinstance(view, str):
            view = json.loads(view)
        if not isinstance(view, dict) or view.get("type") != "home":
            raise SlackError("invalid_arguments")
        errors = view_errors(view)
        if errors:
            raise SlackError("invalid_arguments", errors=errors)
        self.home_views[user] = view
        self.home_publishes[user] = self.home_publishes.get(user, 0) + 1
        return {"view": {"id": f"V{user}", "type": "home", **view}}

    def home_text(self, user: str) -> str:
        """Every piece of text on a person's Home tab, one part per line."""
        view = self.home_views.get(user) or {}
        return flatten_text("", view.get("blocks") or [])

    def _views_open(self, args: Json) -> Json:
        """A modal for the person whose click gave the trigger_id (used once, as Slack does)."""
        trigger = args.get("trigger_id")
        view = args.get("view")
        if isinstance(view, str):
            view = json.loads(view)
        if not isinstance(trigger, str) or not trigger:
            raise SlackError("invalid_arguments")
        if any(v.get("trigger_id") == trigger for v in self.views_opened):
            raise SlackError("expired_trigger_id")
        if not isinstance(view, dict) or view.get("type") != "modal":
            raise SlackError("invalid_arguments")
        if errors := view_errors(view):
            raise SlackError("invalid_arguments", errors=errors)
        opened = {**view, "id": f"V{len(self.views_opened) + 1:08d}", "trigger_id": trigger}
        self.views_opened.append(opened)
        return {"view": opened}

    def _chat_get_permalink(self, args: Json) -> Json:
        channel = self._channel(args)
        message = self._existing_message(channel, args.get("message_ts"))
        permalink = f"{TEAM_URL}archives/{channel}/p{message.ts.replace('.', '')}"
        return {"channel": channel, "permalink": permalink}

    def _conversations_info(self, args: Json) -> Json:
        channel = self._channel(args)
        return {
            "channel": {
                "id": channel,
                "name": self.channel_name(channel),
                "is_channel": True,
                "is_private": False,
                "is_archived": channel in self.archived_channels,
                "is_member": channel not in self.not_in_channels,
                "context_team_id": TEAM_ID,
            }
        }

    def _conversations_history(self, args: Json) -> Json:
        channel = self._channel(args)
        if channel in self.not_in_channels:
            raise SlackError("not_in_channel")
        with_metadata = _truthy(args.get("include_all_metadata"))
        newest_first = [
            m.to_api(include_metadata=with_metadata) for m in reversed(self.root_messages(channel))
        ]
        return {"messages": newest_first, "has_more": False}

    def _conversations_replies(self, args: Json) -> Json:
        channel = self._channel(args)
        if channel in self.not_in_channels:
            raise SlackError("not_in_channel")
        root = self.message(channel, str(args.get("ts") or ""))
        if root is None:
            raise SlackError("thread_not_found")
        if root.thread_ts is not None:  # asked with a reply's ts: Slack answers with its thread
            root = self._existing_message(channel, root.thread_ts)
        thread = [root, *self.thread(channel, root.ts)]
        limit = _limit(args.get("limit"))
        start = _decode_cursor(args.get("cursor"))
        page = thread[start : start + limit]
        with_metadata = _truthy(args.get("include_all_metadata"))
        response: Json = {
            "messages": [m.to_api(include_metadata=with_metadata) for m in page],
            "has_more": start + limit < len(thread),
        }
        if response["has_more"]:
            response["response_metadata"] = {"next_cursor": _encode_cursor(start + limit)}
        return response

    def _users_info(self, args: Json) -> Json:
        user = str(args.get("user") or "")
        if not user or user in self.unknown_users:
            raise SlackError("user_not_found")
        name = self.user_name(user)
        real_name = name.replace("_", " ").replace(".", " ").title()
        return {
            "user": {
                "id": user,
                "team_id": TEAM_ID,
                "name": name,
                "real_name": real_name,
                "deleted": False,
                "is_bot": user == BOT_USER_ID,
                "tz": "Europe/London",
                "profile": {
                    "real_name": real_name,
                    "display_name": name,
                    "email": f"{name}@{TEAM_DOMAIN}.example",
                },
            }
        }

    def _reactions_add(self, args: Json) -> Json:
        channel = self._channel(args)
        message = self._existing_message(channel, args.get("timestamp"))
        name = str(args.get("name") or "")
        if not name:
            raise SlackError("invalid_name")
        if name in message.reactions:
            raise SlackError("already_reacted")
        message.reactions.append(name)
        return {}


# -------------------------------------------------------------------- request parsing


async def _read_args(request: web.Request) -> dict[str, Any]:
    """Query string plus JSON or form body, with JSON-string `blocks` etc. decoded."""
    args: dict[str, Any] = dict(request.query)
    if request.method == "POST" and request.body_exists:
        if request.content_type == "application/json":
            try:
                body = await request.json()
            except json.JSONDecodeError:
                raise SlackError("invalid_json") from None
            if not isinstance(body, dict):
                raise SlackError("invalid_json")
            args.update(body)
        else:
            form = await request.post()
            args.update({k: v for k, v in form.items() if isinstance(v, str)})
    for name in _JSON_ARGS:
        value = args.get(name)
        if isinstance(value, str) and value:
            try:
                args[name] = json.loads(value)
            except json.JSONDecodeError:
                raise SlackError(f"invalid_{name}_format") from None
    return args


def _truthy(value: Any) -> bool:
    return value is True or str(value).lower() in ("true", "1")


def _metadata(args: Mapping[str, Any]) -> Json | None:
    """The `metadata` argument checked as Slack checks it; None when none was given."""
    metadata = args.get("metadata")
    if metadata is None or metadata == "":
        return None
    if not isinstance(metadata, dict):
        raise SlackError("invalid_metadata_format")
    event_type, payload = metadata.get("event_type"), metadata.get("event_payload")
    if not isinstance(event_type, str) or not event_type or not isinstance(payload, dict):
        raise SlackError("invalid_metadata_schema")
    return {"event_type": event_type, "event_payload": payload}


def _limit(value: Any) -> int:
    """A page size as conversations.* read it: the default and the ceiling are 1000."""
    try:
        limit = int(value) if value not in (None, "") else MAX_REPLIES_LIMIT
    except (TypeError, ValueError):
        raise SlackError("invalid_limit") from None
    return MAX_REPLIES_LIMIT if limit <= 0 else min(limit, MAX_REPLIES_LIMIT)


def _encode_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode()


def _decode_cursor(cursor: Any) -> int:
    if cursor in (None, ""):
        return 0
    try:
        kind, _, offset = base64.urlsafe_b64decode(str(cursor).encode()).decode().partition(":")
        if kind == "offset" and offset.isascii() and offset.isdigit():
            return int(offset)
    except (ValueError, UnicodeDecodeError):
        pass
    raise SlackError("invalid_cursor")


# -------------------------------------------------------------------- text flattening

_RICH_TEXT_CONTAINERS = ("rich_text_section", "rich_text_preformatted", "rich_text_quote")
# Text that is not shown in the message itself: dialogs, placeholders, menu options.
_HIDDEN_KEYS = frozenset(
    {"confirm", "placeholder", "options", "option_groups", "initial_option", "initial_options"}
)


def flatten_text(text: str, blocks: list[Block]) -> str:
    """A message's text and all text in its blocks, one part per line, for assertions."""
    parts = [text] if text else []
    parts.extend(part for part in _node_texts(blocks) if part)
    return "\n".join(parts)


def _node_texts(node: Any) -> Iterator[str]:
    if isinstance(node, list):
        for item in node:
            yield from _node_texts(item)
        return
    if not isinstance(node, dict):
        return
    if node.get("type") in _RICH_TEXT_CONTAINERS:
        yield "".join(_inline_text(element) for element in node.get("elements") or [])
        return
    for key, value in node.items():
        if key == "text" and isinstance(value, str):
            yield value
        elif key not in _HIDDEN_KEYS and isinstance(value, dict | list):
            yield from _node_texts(value)


def _inline_text(element: Any) -> str:
    """How Slack renders one rich_text element, as plain text."""
    if not isinstance(element, dict):
        return ""
    kind = element.get("type")
    rendered = {
        "text": lambda: element.get("text", ""),
        "link": lambda: element.get("text") or element.get("url", ""),
        "user": lambda: f"<@{element.get('user_id', '')}>",
        "channel": lambda: f"<#{element.get('channel_id', '')}>",
        "usergroup": lambda: f"<!subteam^{element.get('usergroup_id', '')}>",
        "emoji": lambda: f":{element.get('name', '')}:",
        "broadcast": lambda: f"<!{element.get('range', '')}>",
        "date": lambda: element.get("fallback", ""),
    }.get(str(kind))
    return str(rendered()) if rendered else ""
