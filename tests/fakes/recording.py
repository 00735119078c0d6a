"""What both fakes share: request recording, canned faults, latency and app building.

Every request a fake receives is appended to `fake.requests` as a `Recorded` (also when it
is answered by a fault or rejected for auth), before any latency or fault delay is awaited.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from tests.fakes.server import Served, serve

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class Headers(dict[str, str]):
    """Header names stored lower-cased; lookups ignore case (`h["Authorization"]` works)."""

    def __getitem__(self, key: str) -> str:
        return super().__getitem__(key.lower())

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and super().__contains__(key.lower())

    def get(self, key: str, default: Any = None) -> Any:
        return super().get(key.lower(), default)


@dataclass
class Recorded:
    method: str  # "GET", "POST", ...
    path: str  # without the query string
    query: dict[str, str]
    json: Any  # the parsed body; None when it is empty or not JSON
    headers: dict[str, str]  # a case-insensitive `Headers`
    body: bytes = b""


@dataclass
class Fault:
    status: int
    body: bytes
    headers: dict[str, str]
    content_type: str | None
    times: int
    path_contains: str | None
    method: str | None
    delay: float

    def matches(self, request: web.Request) -> bool:
        if self.method is not None and request.method != self.method.upper():
            return False
        return self.path_contains is None or self.path_contains in request.path_qs


def _encode(body: bytes | str | dict[str, Any] | list[Any] | None) -> tuple[bytes, str | None]:
    if body is None:
        return b"", None
    if isinstance(body, bytes):
        return body, None
    if isinstance(body, str):
        return body.encode(), "text/plain"
    return json.dumps(body).encode(), "application/json"


class FakeServer:
    """Base class of the fakes. Subclasses implement `_routes` and call `super().__init__()`."""

    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self.latency: float = 0.0  # seconds every request awaits before it is answered
        self._faults: list[Fault] = []
        self._late: list[Fault] = []  # only their delay and matching are used

    def _routes(self) -> list[web.RouteDef]:
        raise NotImplementedError

    def app(self) -> web.Application:
        """A new aiohttp application over this fake's state (call as often as you like)."""
        app = web.Application(middlewares=[self._middleware])
        app.add_routes(self._routes())
        return app

    async def serve(self) -> Served:
        """Serve on 127.0.0.1; `served.url` is the base URL, `await served.close()` stops it."""
        return await serve(self.app())

    def requests_to(self, method: str | None, path_prefix: str = "/") -> list[Recorded]:
        """The recorded requests with that method (None: any) whose path starts so."""
        return [
            r
            for r in self.requests
            if (method is None or r.method == method.upper()) and r.path.startswith(path_prefix)
        ]

    def inject(  # noqa: PLR0917 (the signature the team asked for)
        self,
        status: int,
        body: bytes | str | dict[str, Any] | list[Any] | None = None,
        headers: dict[str, str] | None = None,
        times: int = 1,
        path_contains: str | None = None,
        delay: float = 0.0,
        *,
        method: str | None = None,
    ) -> None:
        """Answer the next `times` matching requests with this response instead.

        `path_contains` is matched against the path and query string. A dict or list body is
        sent as JSON, a str as text/plain (override with a Content-Type in `headers`), bytes
        as is. `delay` seconds are awaited before answering (on top of `latency`): use it for
        timeouts. Faults are consumed first-in first-out among those that match.
        """
        if times < 1:
            raise ValueError("times must be at least 1")
        data, content_type = _encode(body)
        hdrs = dict(headers or {})
        if any(k.lower() == "content-type" for k in hdrs):
            content_type = None
        self._faults.append(
            Fault(status, data, hdrs, content_type, times, path_contains, method, delay)
        )

    def answer_late(
        self,
        seconds: float,
        *,
        method: str | None = None,
        path_contains: str | None = None,
        times: int = 1,
    ) -> None:
        """The next `times` matching requests are carried out at once and answered `seconds`
        later: the work is done while the caller waits (or dies waiting)."""
        self._late.append(Fault(200, b"", {}, None, times, path_contains, method, seconds))

    def malformed_next(self, times: int = 1, path_contains: str | None = None) -> None:
        """The next `times` requests get a 200 'application/json' answer that is not JSON."""
        self.inject(
            200,
            b"{not json",
            {"Content-Type": "application/json"},
            times=times,
            path_contains=path_contains,
        )

    def clear_faults(self) -> None:
        self._faults.clear()

    def _take_fault(self, request: web.Request, faults: list[Fault] | None = None) -> Fault | None:
        faults = self._faults if faults is None else faults
        for fault in faults:
            if fault.matches(request):
                fault.times -= 1
                if fault.times == 0:
                    faults.remove(fault)
                return fault
        return None

    async def _record(self, request: web.Request) -> None:
        body = await request.read()
        parsed: Any = None
        if body:
            try:
                parsed = json.loads(body)
            except ValueError:
                parsed = None
        self.requests.append(
            Recorded(
                method=request.method,
                path=request.path,
                query=dict(request.query),
                json=parsed,
                headers=Headers((k.lower(), v) for k, v in request.headers.items()),
                body=body,
            )
        )

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        await self._record(request)
        if self.latency > 0:
            await asyncio.sleep(self.latency)
        fault = self._take_fault(request)
        if fault is None:
            late = self._take_fault(request, self._late)
            response = await handler(request)
            if late is not None:
                await asyncio.sleep(late.delay)
            return response
        if fault.delay > 0:
            await asyncio.sleep(fault.delay)
        return web.Response(
            status=fault.status,
            body=fault.body,
            headers=fault.headers,
            content_type=fault.content_type,
        )


def json_response(data: Any, status: int = 200) -> web.Response:
    return web.json_response(data, status=status)


def empty_response(status: int) -> web.Response:
    return web.Response(status=status, body=b"")
