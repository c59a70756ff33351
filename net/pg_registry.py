"""The lobby registry several processes share through PostgreSQL.

Each open room's lobby summary and each room being created live in the database, so
``GET_ROOMS`` on any process lists every process's rooms. Every lobby push a process
makes (``ROOM_BEING_CREATED``, ``ROOM_CREATED``, ``ROOM_ABANDONED``, ``ROOM_UPDATED``)
is written and then sent with ``NOTIFY`` in one transaction, in order, by one task;
every process ``LISTEN``s on a connection of its own (in a worker thread, as every
database call is) and tells its own lobby watchers. A creation is listed while the
process that holds it is alive (its lease in ``processes``).
"""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING, Any, Final

import psycopg
import trio

from . import leases
from .registry import Moved
from .store import StoreError

if TYPE_CHECKING:
    from .lobby import Lobby
    from .pg_store import PgStore
    from .room import Room

log = logging.getLogger("cardgame.net")

CHANNEL: Final = "cardgame_lobby"
#: Pushes waiting for the database; past this a process is far behind and drops them.
PUSH_BACKLOG: Final = 10_000
#: Rooms and creations listed at most (the lobby is a list for people).
LISTED: Final = 500
#: Seconds the listening thread waits for a notification before checking it should stop.
LISTEN_POLL: Final = 0.5
#: Seconds between attempts to listen again once the database dropped the connection.
LISTEN_AGAIN: Final = 1.0


class PgRegistry:
    def __init__(self, store: PgStore, lobby: Lobby) -> None:
        self.store = store
        self.lobby = lobby
        self._send, self._pushes = trio.open_memory_channel[tuple[str, str, Any]](PUSH_BACKLOG)

    async def run(self, url: str, *, task_status: trio.TaskStatus[None]) -> None:
        self.store.public_url = url
        async with trio.open_nursery() as nursery:
            await nursery.start(leases.keep_leases, self.store, self.lobby)
            await nursery.start(self._listen)
            nursery.start_soon(self._publish)
            task_status.started()

    # -- the lobby's view -----------------------------------------------------------

    async def open_rooms(self) -> list[dict[str, Any]]:
        rows = await self.store.execute(
            "SELECT summary FROM rooms WHERE open AND finished IS NULL ORDER BY created LIMIT %s",
            (LISTED,),
        )
        return [json.loads(summary) for (summary,) in rows]

    async def creations(self) -> list[dict[str, Any]]:
        rows = await self.store.execute(
            "SELECT c.creation_id, c.user_name FROM creations c JOIN processes p "
            "USING (process_id) WHERE p.lease_until > clock_timestamp() "
            "ORDER BY c.created LIMIT %s",
            (LISTED,),
        )
        return [{"creation_id": c, "user_name": u} for c, u in rows]

    async def locate(self, room_id: str) -> Room | None:
        unfinished, url = await self.store.owner_url(room_id)
        if not unfinished:
            return None
        if url is None:  # nobody's lease: this process runs it from now on
            room = await leases.take_over(self.store, self.lobby, room_id)
            if room is not None:
                return room
            unfinished, url = await self.store.owner_url(room_id)  # another claimed it first
        # Between owners (still closing here): the client comes back here, and by then
        # this process has claimed it.
        raise Moved(url or self.store.public_url)

    # -- pushes between processes ---------------------------------------------------

    def addresses(self) -> frozenset[str]:
        return self.store.addresses

    def push(self, cmd: str, prompt: str, data: Any) -> None:
        try:
            self._send.send_nowait((cmd, prompt, data))
        except trio.WouldBlock:
            log.error("lobby push %s not shared: the database is %d pushes behind",
                      cmd, PUSH_BACKLOG)  # fmt: skip

    async def _publish(self) -> None:
        async for cmd, prompt, data in self._pushes:
            try:
                await self.store._run(self._write_push, cmd, prompt, data)
            except StoreError as err:
                log.error("lobby push %s not shared: %s", cmd, err)

    def _write_push(self, db: psycopg.Connection, cmd: str, prompt: str, data: Any) -> None:
        """What the push changes in the registry, then the push itself: one transaction."""
        store = self.store
        with db.transaction():
            if cmd == "ROOM_BEING_CREATED":
                db.execute(
                    "INSERT INTO creations VALUES (%s, %s, %s, extract(epoch FROM now())) "
                    "ON CONFLICT DO NOTHING",
                    (data["creation_id"], data["user_name"], store.process_id),
                )
            elif cmd == "ROOM_ABANDONED":
                db.execute("DELETE FROM creations WHERE creation_id = %s", (data["creation_id"],))
            elif cmd in ("ROOM_CREATED", "ROOM_UPDATED"):
                room = data["room"] if cmd == "ROOM_CREATED" else data
                if cmd == "ROOM_CREATED" and data["creation_id"]:
                    db.execute(
                        "DELETE FROM creations WHERE creation_id = %s", (data["creation_id"],)
                    )
                db.execute(
                    "UPDATE rooms SET summary = %s, open = %s WHERE room_id = %s",
                    (json.dumps(room), room["seats_left"] > 0, room["room_id"]),
                )
            note = {"from": store.process_id, "cmd": cmd, "prompt": prompt, "data": data}
            db.execute("SELECT pg_notify(%s, %s)", (CHANNEL, json.dumps(note)))

    async def _listen(self, *, task_status: trio.TaskStatus[None]) -> None:
        """Other processes' pushes, told to this process's lobby watchers.

        A listening connection the database drops (restarted, failed over) is opened
        again; pushes made meanwhile are not told here, but ``GET_ROOMS`` reads the
        database and is true throughout."""
        conn = await self._listening(first=True)
        task_status.started()
        while True:
            try:
                await self._relay(conn)
            except psycopg.Error as err:
                log.error("lobby pushes from other processes lost: %s; listening again", err)
            conn = await self._listening(first=False)

    async def _listening(self, first: bool) -> psycopg.Connection:
        """A connection that ``LISTEN``s; at start a database that is away is an error,
        later it is waited for."""

        def connect() -> psycopg.Connection:
            conn = psycopg.connect(self.store.url, autocommit=True)
            conn.execute(f"LISTEN {CHANNEL}")
            return conn

        while True:
            try:
                return await trio.to_thread.run_sync(connect)
            except psycopg.Error as err:
                if first:
                    raise StoreError(f"{self.store.where}: cannot listen: {err}") from err
                log.error("cannot listen for lobby pushes: %s", err)
            await trio.sleep(LISTEN_AGAIN)

    async def _relay(self, conn: psycopg.Connection) -> None:
        stop = False
        token = trio.lowlevel.current_trio_token()

        def relay() -> None:
            try:
                while not stop:
                    for note in conn.notifies(timeout=LISTEN_POLL):
                        trio.from_thread.run_sync(self._arrived, note.payload, trio_token=token)
            finally:
                conn.close()

        try:
            await trio.to_thread.run_sync(relay, abandon_on_cancel=True)
        finally:
            stop = True  # the abandoned thread ends within LISTEN_POLL

    def _arrived(self, payload: str) -> None:
        note = json.loads(payload)
        if note["from"] != self.store.process_id:
            self.lobby.push_here(note["cmd"], note["prompt"], note["data"])
