"""Where the server keeps what must survive a dropped connection or a restart.

:class:`Store` is the interface the rooms use; :class:`MemoryStore` keeps it in
memory (tests, ``--db :memory:``), and ``sqlite_store.SqliteStore`` in a file (the
default). A Redis or PostgreSQL store for several server processes is an added
class, not a rewrite.
"""

from __future__ import annotations

import hmac
from collections import defaultdict
from collections.abc import Iterable
from typing import Any, Protocol

from cardgame.fsm.game import Game

from .sqlite_store import StoredRoom

Envelope = dict[str, Any]


class Store(Protocol):
    """Every write is awaited before the messages it records are sent."""

    async def add_room(self, room_id: str, name: str, size: int, computers: int = 0) -> None: ...

    async def add_player(
        self, room_id: str, user_id: str, seat: int, name: str, token_hash: str
    ) -> None: ...

    async def record(
        self,
        room_id: str,
        game: Game,
        messages: Iterable[tuple[int, Envelope]],
        move: tuple[int, int | None, dict[str, Any]] | None = None,
    ) -> None:
        """One applied event: the game after it, its log entry and the messages it sent."""

    async def messages_after(self, room_id: str, seat: int, last_id: int) -> list[Envelope]:
        """Everything sent to the seat after ``last_id``, in order."""

    async def seat_of(self, room_id: str, user_id: str, token_hash: str) -> int | None:
        """The seat of a player whose token hash matches, if any (for finished games)."""

    def unfinished_rooms(self) -> list[StoredRoom]: ...

    async def abandon_room(self, room_id: str) -> None:
        """A room that ended without a game (abandoned): not to be restored."""

    def room_closed(self, room_id: str) -> None:
        """The room's task ended: a store that lives in memory lets it go."""

    def close(self) -> None: ...


class MemoryStore:
    """The store in memory: outboxes for resumption, nothing survives the process."""

    def __init__(self) -> None:
        self.outboxes: defaultdict[tuple[str, int], list[Envelope]] = defaultdict(list)
        self.players: dict[tuple[str, str], tuple[int, str]] = {}

    async def add_room(self, room_id: str, name: str, size: int, computers: int = 0) -> None:
        return None

    async def add_player(
        self, room_id: str, user_id: str, seat: int, name: str, token_hash: str
    ) -> None:
        self.players[room_id, user_id] = (seat, token_hash)

    async def seat_of(self, room_id: str, user_id: str, token_hash: str) -> int | None:
        seat, stored = self.players.get((room_id, user_id), (None, ""))
        return seat if hmac.compare_digest(stored, token_hash) else None

    async def record(
        self,
        room_id: str,
        game: Game,
        messages: Iterable[tuple[int, Envelope]],
        move: tuple[int, int | None, dict[str, Any]] | None = None,
    ) -> None:
        for seat, message in messages:
            self.outboxes[room_id, seat].append(message)

    async def messages_after(self, room_id: str, seat: int, last_id: int) -> list[Envelope]:
        # Ids are 1..n with no gap, so the id is the position.
        return self.outboxes[room_id, seat][last_id:]

    def unfinished_rooms(self) -> list[StoredRoom]:
        return []

    async def abandon_room(self, room_id: str) -> None:
        return None

    def room_closed(self, room_id: str) -> None:
        for key in [k for k in self.outboxes if k[0] == room_id]:
            del self.outboxes[key]
        for key in [k for k in self.players if k[0] == room_id]:
            del self.players[key]

    def close(self) -> None:
        self.outboxes.clear()
