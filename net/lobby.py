"""The lobby: the room registry, Scenario A, and what each endpoint does with a command.

Every ``/lobby`` connection watches the lobby: it is pushed ``ROOM_BEING_CREATED``
when somebody starts creating a room, ``ROOM_CREATED`` the moment that room has an
id, ``ROOM_ABANDONED`` when a creation is given up (``CANCEL_CREATE`` or the
creator's connection closing), and ``ROOM_UPDATED`` when a room's seats change. A
client that chose to wait for a room being created simply waits for the push.
Pushes are coalesced (``watchers.py``): a burst of changes is one ``LOBBY_CHANGED``.

What a stranger may make the lobby spend is bounded here: the open rooms' list is
built once per change (not per ``GET_ROOMS``) and answered a page at a time; rooms
are limited overall and per client address, and so is the rate an address creates
them at. While the server drains, no room is created or joined.
"""

from __future__ import annotations

import logging
import secrets
from collections import Counter
from collections.abc import Awaitable, Callable
from contextlib import suppress
from dataclasses import dataclass
from functools import partial
from typing import Any

import trio

from cardgame.fsm.game import ProtocolError
from cardgame.fsm.snapshot import SnapshotError

from .config import ServerConfig
from .connection import INTERNAL_ERROR, TRY_AGAIN_LATER, Connection, RateLimiter
from .protocol import check_name
from .registry import make_registry
from .room import Player, Room, hash_token, storage_refusal
from .store import LeaseLost, StorageUnavailable, Store
from .watchers import Watchers

log = logging.getLogger("cardgame.net")

#: Rooms (and creations) in one GET_ROOMS reply; ``{"offset": n}`` asks for more.
ROOMS_PAGE = 50
#: Addresses whose room-creation allowance is remembered (the fullest are forgotten).
MAX_REMEMBERED = 4096


@dataclass
class Creation:
    """A room somebody has begun to create (Scenario A)."""

    creation_id: str
    user_name: str
    creator: Connection

    def summary(self) -> dict[str, Any]:
        return {"creation_id": self.creation_id, "user_name": self.user_name}


class Lobby:
    """Rooms by id, creations in progress, and the connections watching them."""

    def __init__(self, store: Store, config: ServerConfig, nursery: trio.Nursery) -> None:
        self.store = store
        self.config = config
        self.rooms: dict[str, Room] = {}
        self.creations: dict[str, Creation] = {}
        self.watchers = Watchers(config)
        self.connections: set[Connection] = set()
        self.draining = False  # SIGTERM: no new room, no join, no game begins
        self._nursery = nursery
        self.registry = make_registry(self)  # every process's rooms (one, or a database's)
        self._room_list: list[dict[str, Any]] | None = None  # the open rooms, once per change
        self._room_address: dict[str, str] = {}  # room id → the address that created it
        self._rooms_by_address: Counter[str] = Counter()
        self._creation_allowance: dict[str, RateLimiter] = {}
        nursery.start_soon(self.watchers.run)

    # -- telling the lobby ----------------------------------------------------------

    def tell(self, conn: Connection, cmd: str, prompt: str, data: Any, extra: Any = None) -> None:
        self.watchers.tell(conn, cmd, prompt, data, extra)

    def push(self, cmd: str, prompt: str, data: Any, skip: Connection | None = None,
             key: str | None = None) -> None:  # fmt: skip
        """A push to this process's watchers and, through the registry, every other's."""
        self.push_here(cmd, prompt, data, skip, key)
        self.registry.push(cmd, prompt, data)

    def push_here(self, cmd: str, prompt: str, data: Any, skip: Connection | None = None,
                  key: str | None = None) -> None:  # fmt: skip
        """Coalesced: see watchers.py."""
        self.watchers.push(cmd, prompt, data, skip, key)

    def open_rooms(self) -> list[dict[str, Any]]:
        """The rooms with a seat left, oldest first; rebuilt only after a change."""
        if self._room_list is None:
            self._room_list = [r.summary() for r in self.rooms.values() if r.seats_left() > 0]
        return self._room_list

    def rooms_changed(self) -> None:
        self._room_list = None

    def drain(self) -> None:
        """From now on no room is created or joined, and no game begins."""
        self.draining = True
        for room in self.rooms.values():
            room.draining = True

    def may_watch(self) -> None:
        """The server's limit on spectators, over every room."""
        watching = sum(len(room.gallery) for room in self.rooms.values())
        if watching >= self.config.max_spectators:
            raise ProtocolError(
                "too_many_spectators", "the server has as many spectators as it takes"
            )

    def watchable_rooms(self) -> list[dict[str, Any]]:
        """The rooms of this process one may watch (filling or in play), oldest first."""
        return [r.watch_summary() for r in self.rooms.values() if r.watchable()]

    def check_open(self) -> None:
        if self.draining:
            raise ProtocolError("shutting_down", "the server is stopping; try again shortly")

    def may_create(self, address: str, spend: bool = True) -> None:
        """The room limits: overall, per address, and (``spend``) the creation rate per
        address; a room whose creation was announced spent its allowance then."""
        config = self.config
        if len(self.rooms) >= config.max_rooms:
            raise ProtocolError("too_many_rooms", "the server has as many rooms as it holds")
        if self._rooms_by_address[address] >= config.max_rooms_per_address:
            raise ProtocolError(
                "too_many_rooms",
                f"{config.max_rooms_per_address} rooms from one address at most; "
                "play in one or wait for one to close",
            )
        if spend:
            self.spend_creation(address)

    def spend_creation(self, address: str) -> None:
        """One of the address's room creations: a room, or a creation announced to every
        watcher (CREATING_A_ROOM, which costs the lobby a push as a room does; begun
        and cancelled again and again it would be a push flood of its own)."""
        allowance = self._creation_allowance.get(address)
        if allowance is None:
            if len(self._creation_allowance) >= MAX_REMEMBERED:
                self._forget_allowances()
            allowance = RateLimiter(self.config.room_rate, self.config.room_burst)
            self._creation_allowance[address] = allowance
        if not allowance.allow():
            raise ProtocolError("rate_limited", "rooms are created slowly; wait a little")

    def _forget_allowances(self) -> None:
        """Addresses whose allowance has refilled are as good as new: forget them."""
        for address, allowance in list(self._creation_allowance.items()):
            allowance.allow()  # refill (and spend one: only the full ones are dropped)
            if allowance.tokens >= allowance.burst - 1:
                del self._creation_allowance[address]
        if len(self._creation_allowance) >= MAX_REMEMBERED:
            self._creation_allowance.clear()

    # -- rooms ----------------------------------------------------------------------

    def restore(self) -> list[Room]:
        """Start every unfinished room the store holds (before any connection is accepted)."""
        restored = []
        for stored in self.store.unfinished_rooms():
            try:
                room = Room.restore(stored, self.store, self.config)
            except SnapshotError as err:
                log.error("room %s cannot be restored: %s", stored.room_id, err)
                continue
            self.start_room(room)
            restored.append(room)
        return restored

    def start_room(self, room: Room, address: str = "") -> None:
        self.rooms[room.room_id] = room
        room.on_change = self.rooms_changed

        def seat_freed(name: str) -> None:
            said = f"{name} did not come to {room.name}; the seat is open again."
            self.push("ROOM_UPDATED", said, room.summary(), key=room.room_id)

        room.on_seat_freed = seat_freed
        if address:
            self._room_address[room.room_id] = address
            self._rooms_by_address[address] += 1
        self.rooms_changed()
        self._nursery.start_soon(self._run_room, room)

    async def _run_room(self, room: Room) -> None:
        """A room's task; whatever happens in it, no other room and no server notices."""
        try:
            await room.run()
        except* LeaseLost:  # raised in the room's nursery, so it comes in a group
            log.warning("room %s: another process runs it now; its players follow", room.room_id)
            room.give_up()
        except* Exception:
            log.exception("room %s failed; its players are disconnected", room.room_id)
            for player in room.players:
                if player.connection is not None:
                    player.connection.close(INTERNAL_ERROR)
        finally:
            self.rooms.pop(room.room_id, None)
            if (address := self._room_address.pop(room.room_id, None)) is not None:
                self._rooms_by_address[address] -= 1
                if not self._rooms_by_address[address]:
                    del self._rooms_by_address[address]
            self.rooms_changed()
            self.store.room_closed(room.room_id)

    async def room(self, room_id: str) -> Room:
        """The room this process runs (taking it over if nobody does); ``Moved`` if
        another process runs it."""
        room = self.rooms.get(room_id)
        if room is None or room.given_up:
            room = await self.registry.locate(room_id)
        if room is None or room.closing:
            raise ProtocolError("unknown_room", f"there is no room {room_id!r}")
        return room

    def abandon(self, conn: Connection) -> None:
        for creation in [c for c in self.creations.values() if c.creator is conn]:
            del self.creations[creation.creation_id]
            # keyed as its ROOM_BEING_CREATED: when that is still pending, watchers hear
            # of the abandon alone (one change, not two)
            self.push("ROOM_ABANDONED", f"{creation.user_name} gave up creating a room.",
                      creation.summary(), skip=conn, key=creation.creation_id)  # fmt: skip


async def refusing_storage_faults(
    handle: Callable[[dict[str, Any]], Awaitable[None]], message: dict[str, Any]
) -> None:
    """A command that needed the database while it was away (a registry read, a
    lookup of another process's room) is refused with ``storage_unavailable``: nothing
    was done, and the connection stays open."""
    try:
        await handle(message)
    except StorageUnavailable as err:
        log.error("%s refused: %s", message["cmd"], err)
        raise storage_refusal() from None


class LobbyEndpoint:
    """What ``/lobby`` does with each command of one connection."""

    def __init__(self, lobby: Lobby, conn: Connection) -> None:
        self.lobby = lobby
        self.conn = conn
        self.room: Room | None = None
        self.player: Player | None = None

    async def run(self) -> None:
        self.lobby.watchers.add(self.conn)
        try:
            await self.conn.run(partial(refusing_storage_faults, self.handle))
        finally:
            self.lobby.abandon(self.conn)
            self.lobby.watchers.discard(self.conn)

    async def handle(self, message: dict[str, Any]) -> None:
        cmd = message["cmd"]
        data = message["payload"].get("data") or {}
        lobby, conn = self.lobby, self.conn
        if cmd == "GET_ROOMS" and data.get("watchable"):
            self._watchable(data.get("offset", 0))
        elif cmd == "GET_ROOMS":
            await self._rooms(data.get("offset", 0))
        elif cmd == "CREATING_A_ROOM":
            lobby.check_open()
            name = check_name(data["user_name"])
            lobby.spend_creation(conn.address)
            creation = Creation(secrets.token_hex(6), name, conn)
            lobby.creations[creation.creation_id] = creation
            conn.session.command(cmd)
            lobby.tell(conn, "CREATING_A_ROOM_REP", "Others see that you are creating a room.",
                       creation.summary())  # fmt: skip
            lobby.push("ROOM_BEING_CREATED", f"{name} is creating a room.", creation.summary(),
                       skip=conn, key=creation.creation_id)  # fmt: skip
        elif cmd == "CANCEL_CREATE":
            lobby.abandon(conn)
            conn.session.command(cmd)
            lobby.tell(conn, "CANCEL_CREATE_REP", "You stopped creating a room.", None)
        elif cmd == "CREATE_A_ROOM":
            await self._create(data)
        elif cmd == "JOIN_ROOM":
            lobby.check_open()
            room = await lobby.room(data["room_id"])
            player, token = await room.reserve(check_name(data["user_name"]))
            lobby.rooms_changed()
            self._seated(cmd, room, player, token, "JOIN_ROOM_REP", f"You joined {room.name}.")
            log.info("room %s: %s took a seat", room.room_id, player.name)
            lobby.push("ROOM_UPDATED", f"{player.name} joined {room.name}.", room.summary(),
                       skip=conn, key=room.room_id)  # fmt: skip
        elif cmd == "GET_ROOMATES":
            assert self.room is not None and self.player is not None
            lobby.tell(conn, "GET_ROOMATES_REP", "Your roommates.",
                       self.room._roommates(self.player.seat))  # fmt: skip

    async def _rooms(self, offset: int) -> None:
        """A page of the open rooms (one process: the list is shared, built once per
        change)."""
        lobby = self.lobby
        rooms = await lobby.registry.open_rooms()
        page = rooms[offset : offset + ROOMS_PAGE]
        every_creation = await lobby.registry.creations()
        creations = every_creation[:ROOMS_PAGE]
        prompt = f"{len(rooms)} room(s) open"
        if len(page) < len(rooms):
            prompt += f" ({offset + 1}-{offset + len(page)} here)" if page else " (none here)"
        if creations:
            prompt += f", {len(every_creation)} being created"
        lobby.tell(self.conn, "GET_ROOMS_REP", prompt + ".", page, creations)

    def _watchable(self, offset: int) -> None:
        """A page of the rooms one may watch."""
        rooms = self.lobby.watchable_rooms()
        page = rooms[offset : offset + ROOMS_PAGE]
        prompt = f"{len(rooms)} room(s) to watch"
        if len(page) < len(rooms):
            prompt += f" ({offset + 1}-{offset + len(page)} here)" if page else " (none here)"
        self.lobby.tell(self.conn, "GET_ROOMS_REP", prompt + ".", page)

    async def _create(self, data: dict[str, Any]) -> None:
        lobby = self.lobby
        lobby.check_open()
        room_name, user_name = (
            check_name(data["room_name"], player=False),
            check_name(data["user_name"]),
        )
        size, computers = data["num_of_players"], data.get("computers", 0)
        if computers >= size:
            raise ProtocolError("bad_size", "leave at least one seat for a person")
        announced = any(c.creator is self.conn for c in lobby.creations.values())
        lobby.may_create(self.conn.address, spend=not announced)
        room_id = secrets.token_hex(4)
        spectators = data.get("spectators", "chat")
        room = Room(room_id, room_name, size, computers, lobby.store, lobby.config,
                    turn_seconds=data.get("turn_seconds"), spectators=spectators)  # fmt: skip
        try:
            await lobby.store.add_room(room_id, room_name, size, computers, room.turn_seconds,
                                       spectators=spectators)  # fmt: skip
        except StorageUnavailable as err:  # nothing written, nothing created
            log.error("room %s was not saved: %s", room_id, err)
            raise storage_refusal() from None
        player, token = await room.reserve(user_name)
        lobby.start_room(room, self.conn.address)
        creation = next((c for c in lobby.creations.values() if c.creator is self.conn), None)
        if creation is not None:
            del lobby.creations[creation.creation_id]
        self._seated("CREATE_A_ROOM", room, player, token, "CREATE_A_ROOM_REP",
                     f"You created {room_name}.")  # fmt: skip
        pushed = {"room": room.summary(),
                  "creation_id": creation.creation_id if creation else None}  # fmt: skip
        lobby.push("ROOM_CREATED", f"{user_name} created {room_name}.", pushed, skip=self.conn)
        log.info("room %s (%s, %d seats, %d computer%s) created by %s", room_id, room_name,
                 size, computers, "" if computers == 1 else "s", user_name)  # fmt: skip

    def _seated(self, cmd: str, room: Room, player: Player, token: str, reply: str, prompt: str):
        self.room, self.player = room, player
        self.conn.session.command(cmd)
        ticket = {"room_id": room.room_id, "user_id": player.user_id, "token": token}
        self.lobby.tell(self.conn, reply, prompt, ticket)


class GameEndpoint:
    """What ``/game`` does: check the seat's token, then hand everything to the room task."""

    def __init__(self, lobby: Lobby, conn: Connection) -> None:
        self.lobby = lobby
        self.conn = conn
        self.room: Room | None = None

    async def run(self) -> None:
        try:
            await self.conn.run(self.join_or_try_later)
        finally:
            if self.room is not None:
                with trio.CancelScope(shield=True), suppress(ProtocolError):  # room closed
                    await self.room.post("disconnected", self.conn)

    async def join_or_try_later(self, message: dict[str, Any]) -> None:
        """A ``JOIN_GAME`` that needed the database while it was away is refused with
        ``storage_unavailable`` and the connection closed with 1013 (try again later):
        the client's reconnection, with its backoff, is the retry."""
        try:
            await refusing_storage_faults(self.handle, message)
        except ProtocolError as err:
            if err.code != "storage_unavailable":
                raise
            self.conn.refuse(err, message["cmd"])
            self.conn.close(TRY_AGAIN_LATER, "storage unavailable; try again later")

    async def handle(self, message: dict[str, Any]) -> None:
        cmd = message["cmd"]
        if cmd == "JOIN_GAME":
            if self.room is not None:
                raise ProtocolError("not_now", "this connection has already joined its game")
            data = message["payload"]["data"]
            known = self.lobby.rooms.get(data["room_id"])
            if known is None or known.given_up:  # another process's (Moved), nobody's, or over
                known = await self.lobby.registry.locate(data["room_id"])
            if (known is None or known.closing) and await self._replay_finished(data):
                return
            room = await self.lobby.room(data["room_id"])
            player = room.player_for(data["user_id"], data["token"])
            self.room = room
            last_msg_id = data.get("last_msg_id", 0)
            await room.post("join_game", self.conn, player, last_msg_id, message["msg_id"])
            return
        if cmd == "WATCH":
            await self._watch(message)
            return
        assert self.room is not None  # the session allows nothing else before JOIN_GAME
        event = {"GAME_MESSAGE": "game_message", "LEAVE": "leave", "GET_ROOMATES": "roommates",
                 "CHAT": "chat"}  # fmt: skip
        await self.room.post(event[cmd], self.conn, message)

    async def _watch(self, message: dict[str, Any]) -> None:
        """A spectator for a room: no seat, no token; refused here while nothing is done
        (the connection stays, and may watch another room)."""
        if self.room is not None:
            raise ProtocolError("not_now", "this connection already watches a room")
        data = message["payload"]["data"]
        room = await self.lobby.room(data["room_id"])
        name = check_name(data["user_name"]) if "user_name" in data else None
        self.lobby.may_watch()
        room.check_watch(name)
        self.room = room
        await room.post("watch", self.conn, name, data.get("last_msg_id"), message["msg_id"])

    async def _replay_finished(self, data: dict[str, Any]) -> bool:
        """A game that ended (before a restart, or longer ago than the linger) still
        owes its players what it sent them: replayed from the store, then refused."""
        store = self.lobby.store
        seat = await store.seat_of(data["room_id"], data["user_id"], hash_token(data["token"]))
        if seat is None:
            return False  # unknown_room, as for any room the server does not know
        missed = await store.messages_after(data["room_id"], seat, data.get("last_msg_id", 0))
        over = "the game is over; you have everything it sent you"
        self.conn.turn_away(ProtocolError("game_finished", over), "JOIN_GAME", missed)
        return True
