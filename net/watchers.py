"""The ``/lobby`` connections watching the lobby: numbered messages, coalesced pushes.

A push is not sent when it happens: it joins the changes pending, and one task sends
them at most every ``lobby_push_interval`` seconds (less often when the watchers are
so many that this would pass ``lobby_push_frames`` frames a second), so a burst of
room changes costs
each watcher one frame (``LOBBY_CHANGED``, the changes in order) and the server one
serialisation per distinct frame, not one per watcher. A lone change goes out as
itself (``ROOM_CREATED``, ...), at once when the lobby was quiet. A room updated
several times in one burst is pushed once, as it is now; past
:data:`MAX_BATCH` changes the oldest are dropped and the frame says how many
(``extra_data.missed``): such a watcher asks ``GET_ROOMS`` again.

A watcher with more than :data:`BEHIND_BYTES` still to be sent (it reads slowly, or
the server is busy) is not queued another push: it is *behind*, and the changes it
was not sent are counted. Once it has caught up it is sent what changes next, or an
empty LOBBY_CHANGED,
with ``missed`` saying how many it was not sent. So a push costs the server one
frame per watcher that keeps up, and what a lobby connection is queued stays at one
frame or so: 2,000 watchers under a flood of room changes once held hundreds of
megabytes of pushes nobody had read yet, and the writes starved the rooms.
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
#: A watcher with more than this queued is *behind* (about a page of GET_ROOMS: a reply
#: or a push not yet written is normal, more than that is a watcher that does not keep up).
BEHIND_BYTES: Final = 16 * 1024
#: Watchers queued a push between two turns for everything else.
YIELD_EVERY: Final = 25


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
        #: Watchers still being sent an earlier push: the changes each was not sent.
        self.behind: dict[Connection, int] = {}

    def add(self, conn: Connection) -> None:
        self.numbers[conn] = 0

    def discard(self, conn: Connection) -> None:
        self.numbers.pop(conn, None)
        self.behind.pop(conn, None)

    def __len__(self) -> int:
        return len(self.numbers)

    def _number(self, conn: Connection) -> str:
        self.numbers[conn] = number = self.numbers.get(conn, 0) + 1
        return str(number)

    def tell(self, conn: Connection, cmd: str, prompt: str, data: Any, extra: Any = None) -> None:
        """A lobby message to one connection, numbered in its stream."""
        conn.deliver(envelope(cmd, self._number(conn), prompt, data, extra))

    def tell_text(self, conn: Connection, cmd: str, payload: str, size: int) -> None:
        """As :meth:`tell`, with the payload already serialised (shared by many) and its
        length in UTF-8 (``size``) known."""
        number = self._number(conn)
        text = f'{{"cmd":"{cmd}","msg_id":"{number}","payload":{payload}}}'
        conn.deliver_text(text, size + len(cmd) + len(number) + 33)

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
        """Send what changed, at most every :meth:`interval` seconds."""
        while True:
            if self.behind:  # tell those that have caught up, even if nothing changes
                with trio.move_on_after(self.interval()):
                    await self._changed.wait()
            else:
                await self._changed.wait()
            self._changed = trio.Event()
            changes, self._pending = self._pending, []
            missed, self._missed = self._missed, 0
            await self._send(changes, missed)
            await trio.sleep(self.interval())

    def interval(self) -> float:
        """Seconds until the next push: ``lobby_push_interval``, or longer when the
        watchers are so many that pushing them all that often passes
        ``lobby_push_frames`` a second (2,000 watchers pushed four times a second took
        a core for writing pushes, and every game's moves waited behind them)."""
        config = self.config
        return max(config.lobby_push_interval, len(self.numbers) / config.lobby_push_frames)

    async def _send(self, changes: list[Change], missed: int) -> None:
        """Every watcher's frame; the rooms get a turn every :data:`YIELD_EVERY`
        watchers (queueing for thousands at once held every game's moves back)."""
        skipped = {c.skip() for c in changes if c.skip is not None}
        everything = tuple(range(len(changes)))
        frames: dict[tuple[int, ...], tuple[str, str, int]] = {}
        for count, conn in enumerate(list(self.numbers), 1):
            if count % YIELD_EVERY == 0:
                await trio.sleep(0)
            if conn not in self.numbers:  # it went while the rooms had their turn
                continue
            if conn in skipped:
                mine = tuple(
                    i for i, c in enumerate(changes) if c.skip is None or c.skip() is not conn
                )
            else:
                mine = everything
            if conn.queued_bytes > BEHIND_BYTES:  # not one more push while so much waits
                if mine or missed:
                    self.behind[conn] = self.behind.get(conn, 0) + len(mine) + missed
                continue
            lag = self.behind.pop(conn, 0) if self.behind else 0
            if lag:  # caught up: what it was not sent is counted, in a frame of its own
                self.tell_text(conn, *_frame([changes[i] for i in mine], missed + lag))
                continue
            if not mine:
                continue
            frame = frames.get(mine)
            if frame is None:
                frame = frames[mine] = _frame([changes[i] for i in mine], missed)
            self.tell_text(conn, *frame)


def _frame(changes: list[Change], missed: int) -> tuple[str, str, int]:
    """(cmd, serialised payload, its UTF-8 length): one change as itself, several (or
    none, with some missed) as LOBBY_CHANGED."""
    if len(changes) == 1 and not missed:
        [change] = changes
        cmd = change.cmd
        payload = encode(envelope(cmd, "", change.prompt, change.data)["payload"])
    else:
        items = [{"cmd": c.cmd, "prompt": c.prompt, "data": c.data} for c in changes]
        prompt = f"{len(changes)} changes in the lobby."
        extra = {"missed": missed} if missed else None
        cmd = "LOBBY_CHANGED"
        payload = encode(envelope(cmd, "", prompt, items, extra)["payload"])
    return cmd, payload, len(payload) if payload.isascii() else len(payload.encode())
