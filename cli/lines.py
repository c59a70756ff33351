"""Where the player's lines come from: a terminal, a pipe, or a test's function.

Rule: the client reads input only when it asks for it (:class:`LineSource`), so a
script piped to stdin lines up with the prompts, and a test can answer each
:class:`Ask` by looking at the view it carries. While the game is not waiting for
this player, an interactive terminal may still type ``q`` or ``r`` (an *optional*
ask); a pipe leaves optional asks unanswered rather than spend a scripted line.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol

import trio


@dataclass
class Ask:
    """What the client is asking for: a kind, the prompt shown, and what it knows.

    ``optional`` asks (waiting for others, waiting for a room) need no answer: a
    non-interactive source leaves them unanswered rather than spend a scripted line.
    """

    kind: str
    prompt: str = ""
    view: dict[str, Any] | None = None
    options: list[Any] = field(default_factory=list)
    count: int = 0
    optional: bool = False


class LineSource(Protocol):
    """Where the player's lines come from: ``None`` is the end of input."""

    interactive: bool

    async def line(self, ask: Ask) -> str | None: ...


class StdinLines:
    """Lines from a file descriptor (stdin): a terminal or a pipe.

    One worker thread reads only when a line is wanted; its chunk lands in a channel,
    so a prompt cancelled mid-read (a message arrived) loses nothing. ``os.read`` on
    the raw descriptor keeps the thread off ``sys.stdin``'s lock, so an abandoned
    read cannot hold up the interpreter's exit.
    """

    def __init__(self, fd: int = 0, interactive: bool | None = None) -> None:
        self.fd = fd
        self.interactive = _isatty(fd) if interactive is None else interactive
        self._buffer = b""
        self._eof = False
        self._reading = False
        self._want_send, self._want_recv = trio.open_memory_channel[None](1)
        self._chunk_send, self._chunk_recv = trio.open_memory_channel[bytes](1)

    @asynccontextmanager
    async def running(self) -> AsyncIterator[StdinLines]:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(self._reader)
            try:
                yield self
            finally:
                nursery.cancel_scope.cancel()

    async def _reader(self) -> None:
        async for _ in self._want_recv:
            chunk = await trio.to_thread.run_sync(self._read, abandon_on_cancel=True)
            await self._chunk_send.send(chunk)

    def _read(self) -> bytes:
        try:
            return os.read(self.fd, 65536)
        except OSError:
            return b""

    async def line(self, ask: Ask) -> str | None:
        if ask.optional and not self.interactive:
            await trio.sleep_forever()
        while b"\n" not in self._buffer and not self._eof:
            if not self._reading:
                self._reading = True
                self._want_send.send_nowait(None)
            chunk = await self._chunk_recv.receive()
            self._reading = False
            if chunk:
                self._buffer += chunk
            else:
                self._eof = True
        if not self._buffer:
            return None
        raw, _, self._buffer = self._buffer.partition(b"\n")
        return raw.decode("utf-8", errors="replace").rstrip("\r")


def _isatty(fd: int) -> bool:
    try:
        return os.isatty(fd)
    except OSError:
        return False


NO_LINE = ...  # a ScriptedLines answer meaning "type nothing now" (for optional asks)


class ScriptedLines:
    """Lines decided by a function of the :class:`Ask`: tests answer what they see.

    ``answer`` returns the line, ``None`` for the end of input, or ``...`` to type
    nothing (the ask then waits until something else happens).
    """

    interactive = False

    def __init__(self, answer: Callable[[Ask], str | None | Any]) -> None:
        self.answer = answer
        self.asked: list[Ask] = []

    async def line(self, ask: Ask) -> str | None:
        await trio.lowlevel.checkpoint()
        self.asked.append(ask)
        reply = self.answer(ask)
        if reply is NO_LINE:
            await trio.sleep_forever()
        return reply


class Quit(Exception):
    """The player is done: end of input, or they chose to exit."""
