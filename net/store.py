"""Where the server keeps what must survive a dropped connection or a restart.

:class:`Store` is the interface the rooms, the lobby and the command line use, and
this module holds everything that interface speaks in (:class:`StoredRoom`,
:class:`StoreError`); it imports no implementation at module level. The
implementations stand beside each other — ``memory_store.MemoryStore`` (tests, the
local ``play`` server), ``sqlite_store.SqliteStore`` (one file, the default),
``pg_store.PgStore`` (one PostgreSQL database several server processes share) — and
:func:`open_store` is the one place that picks one from ``--db``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from cardgame.fsm.game import Game

Envelope = dict[str, Any]
#: A message the room sends: (the seat it goes to, the envelope, its JSON text), so
#: that the store keeps the very text the wire carries, encoded once.
Outgoing = tuple[int, Envelope, str]
#: One entry of a game's move log: (n, the seat that moved or None, the event).
Move = tuple[int, int | None, dict[str, Any]]


class StoreError(RuntimeError):
    """The database cannot be used; the message says why and what to do."""


class StorageUnavailable(StoreError):
    """A write failed for a reason outside the game (disk full, I/O error, read-only
    file): nothing of it was written, and the same write may succeed later."""


class LeaseLost(StoreError):
    """Another server process owns the room now (this one's lease on it ran out): this
    process must stop running it, having sent nothing the database did not commit."""


@dataclass
class StoredRoom:
    """A room as the store last saw it: enough to restore it, list it or replay it."""

    room_id: str
    name: str
    size: int
    finished: bool
    result: dict[str, Any] | None
    snapshot: dict[str, Any] | None
    players: list[dict[str, Any]]  # {user_id, seat, name, token_hash}
    computers: int = 0
    moves_logged: int = 0  # entries in the move log
    turn_seconds: float | None = None  # the room's clock; None: the server's default
    spectators: str = "chat"  # who may watch: "chat" (and chat), "watch" (only), "none"


class Store(Protocol):
    """Every write is awaited before the messages it records are sent.

    A write that fails for want of storage raises :class:`StorageUnavailable` and
    leaves nothing of itself behind, so the caller may simply try it again.
    """

    async def add_room(
        self,
        room_id: str,
        name: str,
        size: int,
        computers: int = 0,
        turn_seconds: float | None = None,
        spectators: str = "chat",
    ) -> None: ...

    async def add_player(
        self, room_id: str, user_id: str, seat: int, name: str, token_hash: str
    ) -> None: ...

    async def free_seat(self, room_id: str, user_id: str) -> None:
        """A seat reserved and never taken up (its player did not connect in time) is
        given back: the player is forgotten, with the messages it was sent (chat), and the
        seats after it move up one, with theirs."""
        ...

    async def record(
        self,
        room_id: str,
        game: Game,
        messages: Iterable[Outgoing],
        move: Move | None = None,
    ) -> None:
        """One applied event: the game after it, its log entry and the messages it sent
        (each stored as its text, the one the wire carries)."""

    async def messages_after(self, room_id: str, seat: int, last_id: int) -> list[Envelope]:
        """Everything sent to the seat after ``last_id``, in order."""

    async def seat_of(self, room_id: str, user_id: str, token_hash: str) -> int | None:
        """The seat of a player whose token hash matches, if any (for finished games)."""

    def unfinished_rooms(self) -> list[StoredRoom]:
        """Rooms to restore at start-up (called before the server accepts connections)."""

    async def abandon_room(self, room_id: str) -> None:
        """A room that ended without a game (abandoned): removed, with all it held."""

    def room_closed(self, room_id: str) -> None:
        """The room's task ended: a store that lives in memory lets it go."""

    async def prune(self, room_id: str) -> None:
        """A finished game's linger is over: the messages it sent go (nobody will resume
        it now); its players, its move log, its last snapshot and its result stay, for
        ``cardgame games`` and ``cardgame replay`` and a late ``game_finished``."""

    async def prune_finished(self, before: float) -> None:
        """At start-up: :meth:`prune` every game that finished before ``before`` (wall
        clock; a server that stopped during their linger did not), and remove what is
        left of abandoned rooms."""

    # -- what the command line reads (``cardgame games``, ``cardgame replay``) ------

    def all_rooms(self) -> list[StoredRoom]: ...

    def room(self, room_id: str) -> StoredRoom | None: ...

    def moves(self, room_id: str) -> list[dict[str, Any]]:
        """The move log of a game, oldest first: ``{n, seat, event, at}``."""

    def close(self) -> None: ...


def whole_snapshot(snapshot: str | None, rng: str | None) -> dict[str, Any] | None:
    """A game snapshot as a store wrote it, its random generator state put back in: the
    stores keep that state (most of a snapshot) in a column of its own, written only
    when the generator moved; it is NULL in games written before, whose snapshots hold it."""
    if not snapshot:
        return None
    game = json.loads(snapshot)
    if rng is not None:
        game["rng"] = json.loads(rng)
    return game


#: What a ``--db`` naming a PostgreSQL database begins with (libpq's two URI schemes).
POSTGRESQL = ("postgresql://", "postgres://")


def open_store(db: str | None, readonly: bool = False) -> Store:
    """The store ``--db`` names: ``None`` keeps everything in this process's memory
    only; a ``postgresql://`` URL is a PostgreSQL database several processes share;
    anything else is a SQLite file (``:memory:``: SQLite in memory).

    Raises :class:`StoreError` for a database that cannot be used (not ours, newer,
    missing when ``readonly``), saying why.
    """
    if db is None:
        from .memory_store import MemoryStore

        return MemoryStore()
    if db.startswith(POSTGRESQL):
        from .pg_store import PgStore

        return PgStore(db, readonly=readonly)
    from .sqlite_store import SqliteStore

    return SqliteStore(db, readonly=readonly)


def shown(db: str) -> str:
    """``--db`` as it may be printed: a PostgreSQL URL without its password, which
    would otherwise end up in every log and terminal that shows the server's start-up
    (libpq reads it from the URL, ``PGPASSWORD`` or ``~/.pgpass`` alike)."""
    if not db.startswith(POSTGRESQL):
        return db
    scheme, rest = db.split("://", 1)
    where, query = rest.split("?", 1) if "?" in rest else (rest, None)
    if "@" in where:
        userinfo, host = where.rsplit("@", 1)
        where = f"{userinfo.split(':', 1)[0]}@{host}"
    if query is not None:
        kept = [p for p in query.split("&") if p.split("=", 1)[0] != "password"]
        where += "?" + "&".join(kept) if kept else ""
    return f"{scheme}://{where}"
