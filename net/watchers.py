"""The ``/lobby`` connections watching the lobby: numbered messages, coalesced pushes.

A push is not sent when it happens: it joins the changes pending, and one task sends
them at most every ``lobby_push_interval`` seconds, so a burst of room changes costs
each watcher one frame (``LOBBY_CHANGED``, the changes in order) and the server one
serialisation per distinct frame, not one per watcher. A lone change goes out as
itself (``ROOM_CREATED``, ...), at once when the lobby was quiet. A room updated
several times in one burst is pushed once, as it is now; past
:data:`MAX_BATCH` changes the oldest are dropped and the frame says how many
(``extra_data.missed``): such a watcher asks ``GET_ROOMS`` again.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from typing import Any, Final

import trio

from .config import ServerConfig
from .connection import Connection
from .protocol import encode, envelope

#: The most changes one push frame carries.
MAX_BATCH: Final = 64


@dataclass
class Change:
    cmd: str
    prompt: str
    data: Any
    #: The connection that caused it hears it as a reply instead (held weakly: a change
    #: pending keeps no closed connection alive).
    skip: weakref.ref[Connection] | None
    key: str | None  # a later change with the same key replaces this one


class Watchers:
    """Lobby connections and how many messages each has been sent (its msg_ids)."""

    def __init__(self, config: ServerConfig) -> None:
        self.config = config
        self.numbers: dict[Connection, int] = {}
        self._pending: list[Change] = []
        self._missed = 0
        self._changed = trio.Event()

    def add(self, conn: Connection) -> None:
        self.numbers[conn] = 0

    def discard(self, conn: Connection) -> None:
        self.numbers.pop(conn, None)

    def __len__(self) -> int:
        return len(self.numbers)

    def _number(self, conn: Connection) -> str:
        self.numbers[conn] = number = self.numbers.get(conn, 0) + 1
        return str(number)

    def tell(self, conn: Connection, cmd: str, prompt: str, data: Any, extra: Any = None) -> None:
        """A lobby message to one connection, numbered in its stream."""
        conn.deliver(envelope(cmd, self._number(conn), prompt, data, extra))

    def tell_text(self, conn: Connection, cmd: str, payload: str) -> None:
        """As :meth:`tell`, with the payload already serialised (shared by many)."""
        number = self._number(conn)
        conn.deliver_text(f'{{"cmd":"{cmd}","msg_id":"{number}","payload":{payload}}}')

    def push(
        self,
        cmd: str,
        prompt: str,
        data: Any,
        skip: Connection | None = None,
        key: str | None = None,
    ) -> None:
        """A change every watcher but ``skip`` hears of, with the next push."""
        if key is not None:
            self._pending = [c for c in self._pending if c.key != key]
        self._pending.append(
            Change(cmd, prompt, data, None if skip is None else weakref.ref(skip), key)
        )
        if len(self._pending) > MAX_BATCH:
            self._missed += len(self._pending) - MAX_BATCH
            del self._pending[:-MAX_BATCH]
        self._changed.set()

    async def run(self) -> None:
        """Send what changed, at most every ``lobby_push_interval`` seconds."""
        while True:
            await self._changed.wait()
            self._changed = trio.Event()
            changes, self._pending = self._pending, []
            missed, self._missed = self._missed, 0
            self._send(changes, missed)
            await trio.sleep(self.config.lobby_push_interval)

    def _send(self, changes: list[Change], missed: int) -> None:
        skipped = {c.skip() for c in changes if c.skip is not None}
        everything = tuple(range(len(changes)))
        frames: dict[tuple[int, ...], tuple[str, str]] = {}
        for conn in list(self.numbers):
            if conn in skipped:
                mine = tuple(
                    i for i, c in enumerate(changes) if c.skip is None or c.skip() is not conn
                )
            else:
                mine = everything
            if not mine:
                continue
            frame = frames.get(mine)
            if frame is None:
                frame = frames[mine] = _frame([changes[i] for i in mine], missed)
            self.tell_text(conn, *frame)


def _frame(changes: list[Change], missed: int) -> tuple[str, str]:
    """(cmd, serialised payload): one change as itself, several as LOBBY_CHANGED."""
    if len(changes) == 1 and not missed:
        [change] = changes
        return change.cmd, encode(envelope(change.cmd, "", change.prompt, change.data)["payload"])
    items = [{"cmd": c.cmd, "prompt": c.prompt, "data": c.data} for c in changes]
    prompt = f"{len(changes)} changes in the lobby."
    extra = {"missed": missed} if missed else None
    return "LOBBY_CHANGED", encode(envelope("LOBBY_CHANGED", "", prompt, items, extra)["payload"])
