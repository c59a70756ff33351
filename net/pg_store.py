"""The store for several server processes: one PostgreSQL database (``--db postgresql://…``).

It keeps what ``sqlite_store`` keeps (rooms, players and token hashes, each game's
snapshot after every applied event, the move log, every message sent to each seat)
and what makes several processes one service: which process owns each room (a lease,
``net/leases.py`` renews and claims them), each process's public address, the rooms
being created, and each open room's lobby summary (``net/pg_registry.py``).

Ordering guarantee, as SQLite's: :meth:`record` writes an event's snapshot, move and
messages in one transaction, awaited before any of those messages is sent. And one
more: every write of a room is *fenced* by its lease. The transaction first locks the
room's row and checks that this process owns it and that the lease has not run out
(on the database's clock); a claim by another process takes the same row lock and
only succeeds on a lease that has run out. So once a lease has expired its old owner
can commit nothing more for that room — and since messages are sent only after their
commit, two processes can never both tell the players of one room anything.

psycopg 3 is called from worker threads (``trio.to_thread``) as sqlite3 is; several
connections let rooms write at once (PostgreSQL groups concurrent commits itself).

A database that is not ours (tables of its own, or a newer cardgame schema) is
refused with :class:`StoreError` and never written to.
"""

from __future__ import annotations

import hmac
import json
import logging
import secrets
import time
from collections.abc import Callable, Iterable
from typing import Any, Final

import psycopg
import trio

from cardgame.fsm.game import Game
from cardgame.fsm.snapshot import to_snapshot

from .protocol import encode
from .store import (
    Envelope,
    LeaseLost,
    Move,
    Outgoing,
    StorageUnavailable,
    StoredRoom,
    StoreError,
    whole_snapshot,
)

log = logging.getLogger("cardgame.net")

SCHEMA_VERSION: Final = 4
#: Names this database as ours (the row of ``cardgame_schema``).
APPLICATION: Final = "cardgame"
#: Serialises migrations of processes started at once (pg_advisory_xact_lock key).
MIGRATION_LOCK: Final = 0x44697363
#: Connections per process: rooms write at once on as many.
CONNECTIONS: Final = 4
#: A room's tables, the ones that refer to ``rooms`` first.
ROOM_TABLES: Final = ("messages", "moves", "games", "players", "rooms")
ABANDONED: Final = json.dumps({"reason": "abandoned"})

# Each entry migrates the schema from version i to i + 1.
MIGRATIONS: Final = [
    """
    CREATE TABLE cardgame_schema (application text NOT NULL, version integer NOT NULL);
    CREATE TABLE processes (
        process_id   text PRIMARY KEY,
        url          text NOT NULL,
        lease_until  timestamptz NOT NULL
    );
    CREATE TABLE rooms (
        room_id      text PRIMARY KEY,
        name         text NOT NULL,
        size         integer NOT NULL,
        computers    integer NOT NULL DEFAULT 0,
        created      double precision NOT NULL,
        finished     double precision,
        result       text,
        owner        text,
        lease_until  timestamptz,
        summary      text,
        open         boolean NOT NULL DEFAULT false
    );
    CREATE INDEX rooms_owner ON rooms (owner) WHERE finished IS NULL;
    CREATE INDEX rooms_open ON rooms (created) WHERE open;
    CREATE TABLE players (
        room_id     text NOT NULL REFERENCES rooms(room_id),
        user_id     text NOT NULL,
        seat        integer NOT NULL,
        name        text NOT NULL,
        token_hash  text NOT NULL,
        PRIMARY KEY (room_id, user_id)
    );
    CREATE TABLE games (
        room_id   text PRIMARY KEY REFERENCES rooms(room_id),
        snapshot  text NOT NULL
    );
    CREATE TABLE moves (
        room_id  text NOT NULL REFERENCES rooms(room_id),
        n        integer NOT NULL,
        seat     integer,
        event    text NOT NULL,
        at       double precision NOT NULL,
        PRIMARY KEY (room_id, n)
    );
    CREATE TABLE messages (
        room_id  text NOT NULL REFERENCES rooms(room_id),
        seat     integer NOT NULL,
        msg_id   integer NOT NULL,
        body     text NOT NULL,
        PRIMARY KEY (room_id, seat, msg_id)
    );
    CREATE TABLE creations (
        creation_id  text PRIMARY KEY,
        user_name    text NOT NULL,
        process_id   text NOT NULL,
        created      double precision NOT NULL
    );
    """,
    # 2: a room keeps its clock (seconds per question, chosen at creation); NULL in
    # rooms from before: the server's --turn-seconds.
    """
    ALTER TABLE rooms ADD COLUMN turn_seconds double precision;
    """,
    # 3: who may watch the room: 'chat', 'watch' or 'none' (as in SQLite's schema 5).
    """
    ALTER TABLE rooms ADD COLUMN spectators text NOT NULL DEFAULT 'chat';
    """,
    # 4: a game's random generator state (7.3 KB of a 9 KB snapshot) in a column of its
    # own, written only when the generator moved; NULL in games from before, whose
    # snapshots hold it (as in SQLite's schema 3).
    """
    ALTER TABLE games ADD COLUMN rng text;
    """,
]

#: The fence every write of a room passes first (see the module's docstring).
FENCE: Final = (
    "SELECT 1 FROM rooms WHERE room_id = %s AND owner = %s "
    "AND lease_until > clock_timestamp() FOR NO KEY UPDATE"
)

#: Ends the transactions still open on the connections of processes whose own lease has
#: run out (each connection names its process, :meth:`PgStore._connect`), waiting up to
#: the given milliseconds for each to go. A process frozen in the middle of a write's
#: pipeline holds its room's row lock, and to the database it is running a statement,
#: not idle in a transaction, so ``idle_in_transaction_session_timeout`` never ends it
#: (PostgreSQL before 17 has no ``transaction_timeout``): without this nobody could
#: claim that room until the frozen process woke or died.
END_STUCK: Final = (
    "SELECT count(*) FILTER (WHERE pg_terminate_backend(a.pid, %s)) "
    "FROM pg_stat_activity a JOIN processes p ON a.application_name = %s || p.process_id "
    "WHERE a.datname = current_database() AND a.xact_start IS NOT NULL "
    "AND p.process_id <> %s AND p.lease_until < clock_timestamp()"
)
#: What each connection's ``application_name`` starts with; the process id follows.
CONNECTION_NAME: Final = "cardgame "
#: Milliseconds a claim waits for an ended transaction's connection to go.
END_WAIT_MS: Final = 2000

Statement = tuple[str, tuple[Any, ...]]


def _check_ours(db: psycopg.Connection, url: str) -> int:
    """The schema version of our database (0 for an empty one); refuse any other."""
    where = _where(url)
    exists = db.execute("SELECT to_regclass('cardgame_schema') IS NOT NULL").fetchone()
    if exists and exists[0]:
        row = db.execute("SELECT application, version FROM cardgame_schema").fetchone()
        if row is None or row[0] != APPLICATION:
            raise StoreError(f"{where} belongs to another application; it was left untouched")
        if row[1] > SCHEMA_VERSION:
            raise StoreError(
                f"{where} has schema version {row[1]}, newer than this cardgame "
                f"({SCHEMA_VERSION}); upgrade cardgame"
            )
        return row[1]
    tables = db.execute(
        "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE c.relkind IN ('r', 'v', 'm', 'p', 'f') "
        "AND n.nspname NOT IN ('pg_catalog', 'information_schema') "
        "AND n.nspname NOT LIKE 'pg_toast%%'"
    ).fetchone()
    if tables and tables[0]:
        raise StoreError(
            f"{where} is not a cardgame database ({tables[0]} table(s) of another "
            "application); it was left untouched — give --db an empty database"
        )
    return 0


def _where(url: str) -> str:
    """The URL without a password, for messages."""
    info = psycopg.conninfo.conninfo_to_dict(url)
    info.pop("password", None)
    return f"PostgreSQL database {info.get('dbname', '?')!r}"


class PgStore:
    """Rooms, players, snapshots, move logs, outboxes and leases in one PostgreSQL database."""

    def __init__(self, url: str, readonly: bool = False, lease_seconds: float = 10.0) -> None:
        """Connect (migrating an empty or older database); ``readonly`` only reads."""
        self.url = url
        self.where = _where(url)
        #: This process, as owner of rooms and creations: new at every start.
        self.process_id = secrets.token_hex(8)
        self.lease_seconds = lease_seconds
        self.public_url = ""  # set by the server once it listens (leases.keep_leases)
        #: The public URLs of the service's live processes (this one's too), read at
        #: each renewal: where ``moved`` may send a client.
        self.addresses: frozenset[str] = frozenset()
        self._released: set[str] = set()  # rooms whose task ended: their leases go back
        #: Each room's generator state as this process last committed it: a snapshot
        #: whose generator has not moved since need not write it again.
        self._rng_written: dict[str, list[Any]] = {}
        try:
            self._db = self._connect()
        except psycopg.Error as err:
            raise StoreError(f"cannot open {self.where}: {err}".strip()) from None
        self._free = [self._db]
        try:
            self._setup(readonly)
            for _ in range(CONNECTIONS - 1 if not readonly else 0):
                self._free.append(self._connect())
        except BaseException:
            self.close()
            raise
        self._slots = trio.Semaphore(len(self._free))
        self._limiter = trio.CapacityLimiter(len(self._free))

    def _connect(self) -> psycopg.Connection:
        """A connection whose transaction, if this process stops halfway through one
        (frozen, cut off), is ended before the lease runs out, or at the latest when
        another process claims the room (:data:`END_STUCK`; so the connection bears this
        process's id): its lock on a room's row would otherwise keep every other process
        from claiming it."""
        db = psycopg.connect(
            self.url, autocommit=True, application_name=CONNECTION_NAME + self.process_id
        )
        idle = max(1, int(self.lease_seconds * 1000 / 3))
        db.execute(f"SET idle_in_transaction_session_timeout = {idle}")
        return db

    def _setup(self, readonly: bool) -> None:
        db = self._db
        try:
            with db.transaction():
                db.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
                version = _check_ours(db, self.url)
                if readonly:
                    if version != SCHEMA_VERSION:
                        raise StoreError(f"{self.where} has no cardgame games (schema {version})")
                    return
                for number in range(version, SCHEMA_VERSION):
                    db.execute(MIGRATIONS[number])
                    db.execute("DELETE FROM cardgame_schema")
                    db.execute(
                        "INSERT INTO cardgame_schema VALUES (%s, %s)", (APPLICATION, number + 1)
                    )
        except psycopg.Error as err:
            raise StoreError(f"{self.where}: {err}".strip()) from None

    def close(self) -> None:
        for conn in getattr(self, "_free", []):
            conn.close()

    async def _run(self, fn: Callable[..., Any], *args: Any) -> Any:
        """``fn(connection, *args)`` in a worker thread, on a connection of its own."""
        async with self._slots:
            conn = self._free.pop()
            try:
                if conn.closed:  # lost with the database (restarted, failed over): again
                    conn = await trio.to_thread.run_sync(self._connect, limiter=self._limiter)
                return await trio.to_thread.run_sync(fn, conn, *args, limiter=self._limiter)
            except psycopg.Error as err:
                if not (isinstance(err, psycopg.OperationalError) or conn.closed):
                    raise
                # The database is away, full or failing, or ended this connection.
                raise StorageUnavailable(f"{self.where}: the write failed: {err}") from err
            finally:
                self._free.append(conn)

    async def _read(self, fn: Callable[..., Any], *args: Any) -> Any:
        """A read, tried once more if it failed: a connection the database had ended
        (restarted, failed over) is found so only when next used, and is replaced."""
        try:
            return await self._run(fn, *args)
        except StorageUnavailable:
            return await self._run(fn, *args)

    # -- writes (each fenced by the room's lease) -----------------------------------

    def _fenced(self, db: psycopg.Connection, room_id: str, statements: list[Statement]) -> None:
        """The fence and the statements in one round trip (pipeline mode); the fence's
        answer is read before the commit, so a write that fails it is rolled back."""
        try:
            with db.transaction(), db.pipeline():
                fence = db.execute(FENCE, (room_id, self.process_id))
                for sql, params in statements:
                    db.execute(sql, params)
                if fence.fetchone() is None:
                    raise LeaseLost(f"room {room_id}: this process's lease on it has run out")
        except psycopg.IntegrityError:
            # Ids another owner already wrote: the fence failed too, read after the error.
            owner = db.execute(
                "SELECT owner = %s AND lease_until > clock_timestamp() FROM rooms "
                "WHERE room_id = %s",
                (self.process_id, room_id),
            ).fetchone()
            if not owner or not owner[0]:
                raise LeaseLost(f"room {room_id}: this process's lease on it has run out") from None
            raise

    async def _write(self, room_id: str, statements: list[Statement]) -> None:
        await self._run(self._fenced, room_id, statements)

    async def add_room(
        self,
        room_id: str,
        name: str,
        size: int,
        computers: int = 0,
        turn_seconds: float | None = None,
        spectators: str = "chat",
    ) -> None:
        def insert(db: psycopg.Connection) -> None:
            db.execute(
                "INSERT INTO rooms (room_id, name, size, computers, turn_seconds, spectators, "
                "created, owner, lease_until) VALUES "
                "(%s, %s, %s, %s, %s, %s, %s, %s, clock_timestamp() + make_interval(secs => %s))",
                (
                    room_id,
                    name,
                    size,
                    computers,
                    turn_seconds,
                    spectators,
                    time.time(),
                    self.process_id,
                    self.lease_seconds,
                ),  # fmt: skip
            )

        await self._run(insert)

    async def add_player(
        self, room_id: str, user_id: str, seat: int, name: str, token_hash: str
    ) -> None:
        sql = (
            "INSERT INTO players (room_id, user_id, seat, name, token_hash) VALUES (%s,%s,%s,%s,%s)"
        )
        await self._write(room_id, [(sql, (room_id, user_id, seat, name, token_hash))])

    async def free_seat(self, room_id: str, user_id: str) -> None:
        freed = "(SELECT seat FROM players WHERE room_id = %s AND user_id = %s)"
        away = 1000  # as in SQLite: the followers' messages move up through negative seats
        await self._write(room_id, [
            (f"DELETE FROM messages WHERE room_id = %s AND seat = {freed}",
             (room_id, room_id, user_id)),
            (f"UPDATE messages SET seat = -seat - {away} WHERE room_id = %s AND seat > {freed}",
             (room_id, room_id, user_id)),
            (f"UPDATE messages SET seat = -seat - {away + 1} WHERE room_id = %s "
             f"AND seat <= -{away}", (room_id,)),
            (f"UPDATE players SET seat = seat - 1 WHERE room_id = %s AND seat > {freed}",
             (room_id, room_id, user_id)),
            ("DELETE FROM players WHERE room_id = %s AND user_id = %s", (room_id, user_id)),
        ])  # fmt: skip

    async def record(
        self,
        room_id: str,
        game: Game,
        messages: Iterable[Outgoing],
        move: Move | None = None,
    ) -> None:
        """One applied event: the game after it, its log entry and every message it
        sent. The generator's state is written only when it moved since the last
        commit (a shuffle, a random choice): most moves use none."""
        snapshot = to_snapshot(game)
        rng = snapshot.pop("rng")
        moved = self._rng_written.get(room_id) != rng
        if moved:
            game_row: Statement = (
                "INSERT INTO games (room_id, snapshot, rng) VALUES (%s, %s, %s) "
                "ON CONFLICT (room_id) DO UPDATE SET snapshot = excluded.snapshot, "
                "rng = excluded.rng",
                (room_id, encode(snapshot), encode(rng)),
            )
        else:
            game_row = (
                "UPDATE games SET snapshot = %s WHERE room_id = %s",
                (encode(snapshot), room_id),
            )
        statements: list[Statement] = [game_row]
        if move is not None:
            n, seat, event = move
            statements.append(
                (
                    "INSERT INTO moves (room_id, n, seat, event, at) VALUES (%s, %s, %s, %s, %s)",
                    (room_id, n, seat, encode(event), time.time()),
                )
            )
        rows = [(room_id, seat, int(envelope["msg_id"]), text) for seat, envelope, text in messages]
        if rows:
            values = ", ".join(["(%s, %s, %s, %s)"] * len(rows))
            statements.append(
                (
                    f"INSERT INTO messages (room_id, seat, msg_id, body) VALUES {values}",
                    tuple(v for row in rows for v in row),
                )
            )
        result = snapshot.get("result") if snapshot.get("state") == "finished" else None
        if result is not None:
            statements.append(
                (
                    "UPDATE rooms SET finished = %s, result = %s, open = false WHERE room_id = %s",
                    (time.time(), encode(result), room_id),
                )
            )
        await self._write(room_id, statements)
        if moved:
            self._rng_written[room_id] = rng  # committed: the next write need not repeat it

    async def abandon_room(self, room_id: str) -> None:
        """A room that ended without a game (abandoned, spam): nothing of it is kept."""
        await self._write(
            room_id,
            [(f"DELETE FROM {table} WHERE room_id = %s", (room_id,)) for table in ROOM_TABLES],
        )

    async def prune(self, room_id: str) -> None:
        """The messages of a finished game, once its linger is over (the bulk of it)."""
        await self.execute("DELETE FROM messages WHERE room_id = %s", (room_id,))

    async def prune_finished(self, before: float) -> None:
        """Finished games older than ``before`` lose their messages; rooms abandoned
        whose removal failed go entirely (whichever process finished them)."""

        def prune(db: psycopg.Connection) -> None:
            with db.transaction():
                db.execute(
                    "DELETE FROM messages WHERE room_id IN (SELECT room_id FROM rooms "
                    "WHERE finished IS NOT NULL AND finished < %s)",
                    (before,),
                )
                for table in ROOM_TABLES:
                    db.execute(
                        f"DELETE FROM {table} WHERE room_id IN "
                        "(SELECT room_id FROM rooms WHERE result = %s)",
                        (ABANDONED,),
                    )

        await self._run(prune)

    def room_closed(self, room_id: str) -> None:
        """The room's task ended here: its lease is given back at the next renewal (and
        another process may write its game before this one runs it again)."""
        self._released.add(room_id)
        self._rng_written.pop(room_id, None)

    # -- reads ----------------------------------------------------------------------

    async def messages_after(self, room_id: str, seat: int, last_id: int) -> list[Envelope]:
        """Everything sent to the seat after ``last_id``, in order (for resumption)."""

        def read(db: psycopg.Connection) -> list[Envelope]:
            rows = db.execute(
                "SELECT body FROM messages WHERE room_id = %s AND seat = %s AND msg_id > %s "
                "ORDER BY msg_id",
                (room_id, seat, last_id),
            ).fetchall()
            return [json.loads(body) for (body,) in rows]

        return await self._read(read)

    async def seat_of(self, room_id: str, user_id: str, token_hash: str) -> int | None:
        """The seat of a player of a finished game whose token hash matches, if any
        (an unfinished room is never reported finished)."""

        def read(db: psycopg.Connection) -> int | None:
            row = db.execute(
                "SELECT p.seat, p.token_hash FROM players p JOIN rooms r USING (room_id) "
                "WHERE p.room_id = %s AND p.user_id = %s AND r.finished IS NOT NULL "
                "AND r.result != %s",
                (room_id, user_id, ABANDONED),
            ).fetchone()
            return row[0] if row and hmac.compare_digest(row[1], token_hash) else None

        return await self._read(read)

    def _rooms(
        self, db: psycopg.Connection, where: str = "", params: tuple[Any, ...] = ()
    ) -> list[StoredRoom]:
        rooms = []
        for (
            room_id,
            name,
            size,
            computers,
            turn,
            watch,
            finished,
            result,
            snapshot,
            rng,
            logged,
        ) in db.execute(
            "SELECT r.room_id, r.name, r.size, r.computers, r.turn_seconds, r.spectators, "
            "r.finished, r.result, "
            "g.snapshot, g.rng, (SELECT count(*) FROM moves m WHERE m.room_id = r.room_id) "
            f"FROM rooms r LEFT JOIN games g USING (room_id) {where} ORDER BY r.created",
            params,
        ).fetchall():
            players = [
                {"user_id": u, "seat": s, "name": n, "token_hash": h}
                for u, s, n, h in db.execute(
                    "SELECT user_id, seat, name, token_hash FROM players "
                    "WHERE room_id = %s ORDER BY seat",
                    (room_id,),
                )
            ]
            rooms.append(
                StoredRoom(
                    room_id,
                    name,
                    size,
                    finished is not None,
                    json.loads(result) if result else None,
                    whole_snapshot(snapshot, rng),
                    players,
                    computers,
                    logged,
                    turn,
                    watch,
                )  # fmt: skip
            )
        return rooms

    def unfinished_rooms(self) -> list[StoredRoom]:
        """At start-up: the rooms no live process owns, now this one's (see :meth:`claim`)."""
        return self._claim(self._db, None)

    def all_rooms(self) -> list[StoredRoom]:
        return self._rooms(self._db)

    def room(self, room_id: str) -> StoredRoom | None:
        return next(iter(self._rooms(self._db, "WHERE r.room_id = %s", (room_id,))), None)

    def moves(self, room_id: str) -> list[dict[str, Any]]:
        """The move log of a game, oldest first: ``{n, seat, event, at}``."""
        return [
            {"n": n, "seat": seat, "event": json.loads(event), "at": at}
            for n, seat, event, at in self._db.execute(
                "SELECT n, seat, event, at FROM moves WHERE room_id = %s ORDER BY n", (room_id,)
            )
        ]

    # -- leases (driven by net/leases.py) -------------------------------------------

    def _claim(self, db: psycopg.Connection, room_id: str | None, limit: int = 1000) -> list:
        """Take over unfinished rooms whose lease has run out (or one of them, by id).

        The row lock the claim takes is the one every fenced write takes first, and
        the claim only succeeds on a lease already out: an old owner's write either
        committed before (and is loaded here) or is refused after. A write of a process
        whose own lease ran out that still holds a row lock is ended first.
        """
        ended = db.execute(END_STUCK, (END_WAIT_MS, CONNECTION_NAME, self.process_id))
        if (count := ended.fetchone()[0]) > 0:  # type: ignore[index]
            log.warning("ended %d transaction(s) of a process whose lease ran out", count)
        only = "AND room_id = %s" if room_id is not None else ""
        with db.transaction():
            claimed = db.execute(
                "UPDATE rooms SET owner = %s, "
                "lease_until = clock_timestamp() + make_interval(secs => %s) "
                "WHERE room_id IN (SELECT room_id FROM rooms WHERE finished IS NULL "
                f"AND (lease_until IS NULL OR lease_until < clock_timestamp()) {only} "
                "ORDER BY created LIMIT %s FOR UPDATE SKIP LOCKED) "
                "AND (lease_until IS NULL OR lease_until < clock_timestamp()) RETURNING room_id",
                (
                    self.process_id,
                    self.lease_seconds,
                    *((room_id,) if room_id is not None else ()),
                    limit,
                ),  # fmt: skip
            ).fetchall()
            if not claimed:
                return []
            for (taken,) in claimed:  # another process may have written it meanwhile
                self._rng_written.pop(taken, None)
            return self._rooms(db, "WHERE r.room_id = ANY(%s)", ([r for (r,) in claimed],))

    async def claim(self, room_id: str | None = None, limit: int = 1000) -> list[StoredRoom]:
        return await self._run(self._claim, room_id, limit)

    async def renew(self, held: Iterable[str]) -> set[str]:
        """Extend this process's leases and its own; the held rooms it still owns. The
        live processes' addresses are read on the way (:attr:`addresses`)."""
        released = list(self._released)
        self._released.difference_update(released)
        held = list(held)

        def renew(db: psycopg.Connection) -> set[str]:
            with db.transaction():
                db.execute(
                    "INSERT INTO processes (process_id, url, lease_until) VALUES "
                    "(%s, %s, clock_timestamp() + make_interval(secs => %s)) "
                    "ON CONFLICT (process_id) DO UPDATE SET url = excluded.url, "
                    "lease_until = excluded.lease_until",
                    (self.process_id, self.public_url, self.lease_seconds),
                )
                if released:
                    db.execute(
                        "UPDATE rooms SET owner = NULL, lease_until = NULL "
                        "WHERE room_id = ANY(%s) AND owner = %s",
                        (released, self.process_id),
                    )
                rows = db.execute(
                    "UPDATE rooms SET lease_until = clock_timestamp() + make_interval(secs => %s) "
                    "WHERE room_id = ANY(%s) AND owner = %s AND lease_until > clock_timestamp() "
                    "RETURNING room_id",
                    (self.lease_seconds, held, self.process_id),
                ).fetchall()
                urls = db.execute(
                    "SELECT url FROM processes WHERE lease_until > clock_timestamp()"
                ).fetchall()
            self.addresses = frozenset(url for (url,) in urls if url)
            return {r for (r,) in rows}

        return await self._run(renew)

    async def owner_url(self, room_id: str) -> tuple[bool, str | None]:
        """(the room is unfinished, the public URL of the live process that owns it)."""

        def read(db: psycopg.Connection) -> tuple[bool, str | None]:
            row = db.execute(
                "SELECT r.finished IS NULL, CASE WHEN r.lease_until > clock_timestamp() "
                "THEN p.url END FROM rooms r LEFT JOIN processes p ON p.process_id = r.owner "
                "WHERE r.room_id = %s",
                (room_id,),
            ).fetchone()
            return (False, None) if row is None else (row[0], row[1])

        return await self._read(read)

    async def execute(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        """One read outside any room (the lobby registry's)."""

        def run(db: psycopg.Connection) -> list[tuple[Any, ...]]:
            cursor = db.execute(sql, params)
            return cursor.fetchall() if cursor.description else []

        return await self._read(run)

    def make_registry(self, lobby: Any) -> Any:
        """The lobby registry every process on this database shares (``pg_registry``)."""
        from .pg_registry import PgRegistry

        self.lease_seconds = lobby.config.lease_seconds
        return PgRegistry(self, lobby)
