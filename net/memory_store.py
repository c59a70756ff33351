"""The store in memory: outboxes for resumption, nothing survives the process.

For tests and the local ``cardgame play`` server, where nobody restarts anything.
"""

from __future__ import annotations

import hmac
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from cardgame.fsm.game import Game

from .store import Envelope, Move, Outgoing, StoredRoom


class MemoryStore:
    """Outboxes and token hashes per room, dropped when the room closes."""

    def __init__(self) -> None:
        self.outboxes: defaultdict[tuple[str, int], list[Envelope]] = defaultdict(list)
        self.players: dict[tuple[str, str], tuple[int, str]] = {}

    async def add_room(
        self,
        room_id: str,
        name: str,
        size: int,
        computers: int = 0,
        turn_seconds: float | None = None,
        spectators: str = "chat",
    ) -> None:
        return None

    async def add_player(
        self, room_id: str, user_id: str, seat: int, name: str, token_hash: str
    ) -> None:
        self.players[room_id, user_id] = (seat, token_hash)

    async def free_seat(self, room_id: str, user_id: str) -> None:
        freed, _ = self.players.pop((room_id, user_id))
        for key, (seat, token_hash) in list(self.players.items()):
            if key[0] == room_id and seat > freed:
                self.players[key] = (seat - 1, token_hash)
        self.outboxes.pop((room_id, freed), None)
        after = sorted(s for r, s in self.outboxes if r == room_id and s > freed)
        for seat in after:  # the messages of the seats after it move up with them
            self.outboxes[room_id, seat - 1] = self.outboxes.pop((room_id, seat))

    async def seat_of(self, room_id: str, user_id: str, token_hash: str) -> int | None:
        seat, stored = self.players.get((room_id, user_id), (None, ""))
        return seat if hmac.compare_digest(stored, token_hash) else None

    async def record(
        self,
        room_id: str,
        game: Game,
        messages: Iterable[Outgoing],
        move: Move | None = None,
    ) -> None:
        for seat, message, _ in messages:
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

    async def prune(self, room_id: str) -> None:
        return None  # room_closed, just after, lets everything go

    async def prune_finished(self, before: float) -> None:
        return None

    def all_rooms(self) -> list[StoredRoom]:
        return []

    def room(self, room_id: str) -> StoredRoom | None:
        return None

    def moves(self, room_id: str) -> list[dict[str, Any]]:
        return []

    def close(self) -> None:
        self.outboxes.clear()
