"""The console's terminal: what is typed comes in, boxes and lines go out, wrapped to its width.

At a terminal, prompt_toolkit reads the line (editing, history) and keeps its prompt below
whatever the bot prints meanwhile (`patch_stdout`: late output goes above, the prompt and what
was half typed are drawn again); rich wraps each line to the terminal's width, by cell (an emoji
takes two), so a box keeps its border on every line. When stdin or stdout is not a terminal (a
pipe, a file, a test), lines are read as they come and each is printed after its prompt, as a
transcript reads; nothing is wrapped there.
"""

from __future__ import annotations

import asyncio
import io
import os
import sys
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Protocol

from prompt_toolkit import PromptSession
from prompt_toolkit.patch_stdout import patch_stdout
from rich.console import Console
from rich.text import Text

_RICH = Console(file=io.StringIO(), color_system=None, emoji=False, markup=False, highlight=False)


def wrapped(text: str, width: int | None) -> list[str]:
    """`text`'s lines, each cut at spaces to fit `width` cells (a word longer than that is
    folded); None: as they are."""
    if width is None:
        return text.split("\n")
    return [line.plain.rstrip() for line in Text(text).wrap(_RICH, max(width, 8))]


def boxed(head: str, body: list[str], width: int | None) -> str:
    """A message as printed: its head after ┌, each line after │ (wrapped lines too), then └."""
    inner = None if width is None else width - 2
    heads = wrapped(head, inner)
    shown = [f"┌ {heads[0]}", *(f"│ {line}" for line in heads[1:])]
    shown += [f"│ {line}" for text in body for line in wrapped(text, inner)]
    return "\n".join([*shown, "└"])


class Terminal(Protocol):
    # Piped in: the output is read afterwards as a transcript, each answer under its line.
    transcript: bool

    def say(self, text: str) -> None:
        """A line or more of the console's own (help, answers), wrapped to the width."""

    def box(self, head: str, body: list[str]) -> None:
        """A message of the workspace: `head` says what and where, `body` its lines."""

    async def read(self, prompt: str) -> str | None:
        """The next line typed after `prompt`; None at the end of input (Ctrl-D, Ctrl-C)."""


class _Printed:
    transcript = False

    def __init__(self, width: Callable[[], int | None]) -> None:
        self._width = width

    def say(self, text: str) -> None:
        _print("\n".join(wrapped(text, self._width())))

    def box(self, head: str, body: list[str]) -> None:
        _print(boxed(head, body, self._width()))


class Interactive(_Printed):
    """A person at a terminal: prompt_toolkit's prompt, kept below late output."""

    def __init__(self) -> None:
        self._session: PromptSession[str] = PromptSession()
        super().__init__(lambda: self._session.output.get_size().columns)

    async def read(self, prompt: str) -> str | None:
        try:
            return await self._session.prompt_async(f"{prompt} ")
        except (EOFError, KeyboardInterrupt):  # Ctrl-D, Ctrl-C: leave
            return None


class Piped(_Printed):
    """Lines from a pipe or a file; each printed after its prompt, so the output reads as the
    session did."""

    transcript = True

    def __init__(self) -> None:
        super().__init__(lambda: None)
        self._lines = stdin_lines()

    async def read(self, prompt: str) -> str | None:
        line = await self._lines()
        if not line:
            return None
        _print(f"{prompt} {line.rstrip()}".rstrip())
        return line


@contextmanager
def terminal() -> Iterator[Terminal]:
    """The terminal this process runs in: Interactive when both ends are one, else Piped."""
    if sys.stdin.isatty() and sys.stdout.isatty():
        with patch_stdout(raw=True):  # what is printed goes above the prompt
            yield Interactive()
    else:
        yield Piped()


def _print(text: str) -> None:
    print(text, flush=True)  # noqa: T201 - the terminal is this command's interface


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
