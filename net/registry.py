"""The lobby's registry: which rooms are open and being created, across every process.

One process (SQLite, or memory) is its own registry: :class:`LocalRegistry` reads the
lobby's own rooms and creations. Several processes on one PostgreSQL database share
one: ``pg_registry.PgRegistry`` keeps each open room's summary and each creation in
the database and carries every lobby push to the other processes (LISTEN/NOTIFY). A
store shared by several processes says so by offering ``make_registry(lobby)``;
nothing here names an implementation.

A command for a room another process runs is refused with :class:`Moved`, whose
``url`` says where to send it again (``specs/protocol.md``, "Several processes").
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

import trio

from cardgame.fsm.game import ProtocolError

if TYPE_CHECKING:
    from .lobby import Lobby
    from .room import Room


class Moved(ProtocolError):
    """The room runs in another process: the client sends its command again to ``url``."""

    def __init__(self, url: str) -> None:
        super().__init__("moved", f"the room is run by the server at {url}; connect there")
        self.url = url


class Registry(Protocol):
    async def run(self, url: str, *, task_status: trio.TaskStatus[None]) -> None:
        """What keeps the registry true (the server's nursery runs it); ``url`` is this
        process's public address."""

    async def open_rooms(self) -> list[dict[str, Any]]:
        """Every process's rooms with a seat left (their lobby summaries)."""

    async def creations(self) -> list[dict[str, Any]]:
        """Every process's rooms being created (Scenario A)."""

    def push(self, cmd: str, prompt: str, data: Any) -> None:
        """A lobby push this process has told its own watchers: the others' are told too."""

    async def locate(self, room_id: str) -> Room | None:
        """A room this process does not run: taken over here (its owner has gone), or
        :class:`Moved` to its owner, or None (no unfinished room of that id)."""

    def addresses(self) -> frozenset[str]:
        """The public URLs of the service's live processes: where :class:`Moved` may
        send a client (the web page's policy lets it connect to each)."""


class LocalRegistry:
    """One process: the lobby's own rooms and creations are all there is."""

    def __init__(self, lobby: Lobby) -> None:
        self.lobby = lobby

    async def run(self, url: str, *, task_status: trio.TaskStatus[None]) -> None:
        task_status.started()

    async def open_rooms(self) -> list[dict[str, Any]]:
        return self.lobby.open_rooms()  # built once per change

    async def creations(self) -> list[dict[str, Any]]:
        return [c.summary() for c in self.lobby.creations.values()]

    def push(self, cmd: str, prompt: str, data: Any) -> None:
        return None

    async def locate(self, room_id: str) -> Room | None:
        return None

    def addresses(self) -> frozenset[str]:
        return frozenset()


def make_registry(lobby: Lobby) -> Registry:
    """The registry the lobby's store calls for: shared if the store is, else local."""
    make = getattr(lobby.store, "make_registry", None)
    return make(lobby) if make is not None else LocalRegistry(lobby)
