"""Serve an aiohttp application on a free local port for the length of a test."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

from aiohttp import web


@dataclass
class Served:
    url: str  # "http://127.0.0.1:54321", no trailing slash
    runner: web.AppRunner

    async def close(self) -> None:
        await self.runner.cleanup()

    async def __aenter__(self) -> Served:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


async def serve(app: web.Application) -> Served:
    """Start `app` on 127.0.0.1 and an OS-chosen port; `await served.close()` when done."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    try:
        await site.start()
    except BaseException:
        await runner.cleanup()
        raise
    host, port = runner.addresses[0][:2]
    return Served(url=f"http://{host}:{port}", runner=runner)


@contextlib.asynccontextmanager
async def serving(app: web.Application) -> AsyncIterator[Served]:
    """`async with serving(app) as served: ...` closes the server on the way out."""
    served = await serve(app)
    try:
        yield served
    finally:
        await served.close()
