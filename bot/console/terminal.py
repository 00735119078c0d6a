"""Reading what is typed without a thread: Ctrl-C leaves the console at once."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Awaitable, Callable


def stdin_lines() -> Callable[[], Awaitable[str]]:
    """Lines typed, read on the event loop: Ctrl-C then stops at once (a thread blocked in
    readline would hold the exit until Enter). Returns "" at the end of input."""
    fd = sys.stdin.fileno()
    pending = bytearray()

    async def read() -> str:
        loop = asyncio.get_running_loop()
        while b"\n" not in pending:
            ready: asyncio.Future[bytes] = loop.create_future()
            try:
                loop.add_reader(fd, _read_into, fd, ready)
            except PermissionError:  # a regular file (input < file): reading it never blocks
                chunk = os.read(fd, 65536)
            else:
                try:
                    chunk = await ready
                finally:
                    loop.remove_reader(fd)
            if not chunk:
                last = pending.decode(errors="replace")
                pending.clear()
                return last
            pending.extend(chunk)
        line, _, rest = bytes(pending).partition(b"\n")
        pending[:] = rest
        return line.decode(errors="replace") + "\n"

    return read


def _read_into(fd: int, ready: asyncio.Future[bytes]) -> None:
    if not ready.done():
        ready.set_result(os.read(fd, 65536))
