"""The embedded default store: one SQLite file.

It keeps what a restarted server needs to carry on as if nothing happened: rooms,
players with their token hashes, each game's snapshot after every applied event
(its random generator's state, three quarters of it, in a column of its own that is
written only when the generator was used: a shuffle, a random choice),
the move log, and every message sent to each player (so a reconnecting client is
sent everything after the last id it saw).

Ordering guarantee: :meth:`record` writes an event's snapshot, move and messages in
one transaction, and the room task awaits it before sending any of those messages.
SQLite is called in the server's own thread, one call at a time: a transaction here
takes a tenth of a millisecond or so (WAL, ``synchronous=NORMAL``: a commit does not
wait for the disk), while a hop to a worker thread and back took milliseconds of
waking and GIL hand-over per write. Writes that arrive together share a transaction
(group commit, :meth:`SqliteStore._write`).

A file that is not ours — not SQLite at all, or SQLite with another application id
or a newer schema — is refused with :class:`StoreError` and never written to.
"""

from __future__ import annotations

import hmac
import json
import sqlite3
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import trio

from cardgame.fsm.game import Game
from cardgame.fsm.snapshot import to_snapshot

from .db_file import ServerLock, check_writable
from .protocol import encode
from .store import Move, Outgoing, StorageUnavailable, StoredRoom, StoreError, whole_snapshot

#: "Disc" in ASCII: marks the file as a cardgame database (PRAGMA application_id).
APPLICATION_ID: Final = 0x44697363
SCHEMA_VERSION: Final = 6

# Each entry migrates the schema from version i to i + 1.
MIGRATIONS: Final = [
    """
    CREATE TABLE rooms (
        room_id   TEXT PRIMARY KEY,
        name      TEXT NOT NULL,
        size      INTEGER NOT NULL,
        created   REAL NOT NULL,
        finished  REAL,
        result    TEXT
    );
    CREATE TABLE players (
        room_id     TEXT NOT NULL REFERENCES rooms(room_id),
        user_id     TEXT NOT NULL,
        seat        INTEGER NOT NULL,
        name        TEXT NOT NULL,
        token_hash  TEXT NOT NULL,
        PRIMARY KEY (room_id, user_id)
    );
    CREATE TABLE games (
        room_id   TEXT PRIMARY KEY REFERENCES rooms(room_id),
        snapshot  TEXT NOT NULL
    );
    CREATE TABLE moves (
        room_id  TEXT NOT NULL REFERENCES rooms(room_id),
        n        INTEGER NOT NULL,
        seat     INTEGER,
        event    TEXT NOT NULL,
        at       REAL NOT NULL,
        PRIMARY KEY (room_id, n)
    );
    CREATE TABLE messages (
        room_id  TEXT NOT NULL REFERENCES rooms(room_id),
        seat     INTEGER NOT NULL,
        msg_id   INTEGER NOT NULL,
        body     TEXT NOT NULL,
        PRIMARY KEY (room_id, seat, msg_id)
    ) WITHOUT ROWID;
    """,
    # 2: a room remembers how many seats it gives to computers, so a room restored
    # before it filled seats them when it does.
    """
    ALTER TABLE rooms ADD COLUMN computers INTEGER NOT NULL DEFAULT 0;
    """,
    # 3: the snapshot's random generator state (2.5 of its 3.3 KB) in a column of its
    # own, rewritten only when it changed; NULL: the snapshot holds it.
    """
    ALTER TABLE games ADD COLUMN rng TEXT;
    """,
    # 4: a room keeps its clock (seconds per question, chosen at creation); NULL in
    # rooms from before: the server's --turn-seconds.
    """
    ALTER TABLE rooms ADD COLUMN turn_seconds REAL;
    """,
    # 5: who may watch the room (chosen at creation): 'chat' (spectators may watch and
    # chat), 'watch' (watch only), 'none'. Rooms from before: 'chat', the default.
    """
    ALTER TABLE rooms ADD COLUMN spectators TEXT NOT NULL DEFAULT 'chat';
    """,
    # 6: messages in a rowid table (appended at its end) with its key as an index. As a
    # WITHOUT ROWID table, rows of ~600 bytes filled its leaves a few at a time, and
    # every room inserting in its own place split and rewrote them: 3.5x the cost of
    # a move's write.
    """
    CREATE TABLE messages_by_rowid (
        room_id  TEXT NOT NULL REFERENCES rooms(room_id),
        seat     INTEGER NOT NULL,
        msg_id   INTEGER NOT NULL,
        body     TEXT NOT NULL,
        PRIMARY KEY (room_id, seat, msg_id)
    );
    INSERT INTO messages_by_rowid (room_id, seat, msg_id, body)
        SELECT room_id, seat, msg_id, body FROM messages ORDER BY room_id, seat, msg_id;
    DROP TABLE messages;
    ALTER TABLE messages_by_rowid RENAME TO messages;
    """,
]


#: SQL and its parameters; a list of parameter tuples: the statement once per row.
Statement = tuple[str, tuple[Any, ...] | list[tuple[Any, ...]]]
#: Every table with a room's rows, children before the room itself (foreign keys).
ROOM_TABLES: Final = ("messages", "moves", "games", "players", "rooms")
#: Where a freed seat's followers' messages wait while they move up one (free_seat).
AWAY: Final = 1000
#: The result abandoned rooms were once kept with; any left in a file go at start-up.
ABANDONED: Final = json.dumps({"reason": "abandoned"})


@dataclass
class _Batch:
    """Writes committed together in one transaction (see :meth:`SqliteStore._write`)."""

    writes: list[list[Statement]] = field(default_factory=list)
    errors: list[BaseException | None] = field(default_factory=list)
    failed: Exception | None = None  # the transaction as a whole
    done: trio.Event = field(default_factory=trio.Event)


def _check_ours(db: sqlite3.Connection, path: str) -> None:
    try:
        app_id = db.execute("PRAGMA application_id").fetchone()[0]
        version = db.execute("PRAGMA user_version").fetchone()[0]
        tables = db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
    except sqlite3.DatabaseError as err:
        raise StoreError(
            f"{path} is not a cardgame database ({err}); it was left untouched"
        ) from None
    if app_id == 0 and version == 0 and tables == 0:
        return  # a new, empty file: ours to set up
    if app_id != APPLICATION_ID:
        raise StoreError(
            f"{path} belongs to another application (application_id {app_id:#x}); "
            "it was left untouched — choose another file with --db"
        )
    if version > SCHEMA_VERSION:
        raise StoreError(
            f"{path} has schema version {version}, newer than this cardgame ({SCHEMA_VERSION}); "
            "upgrade cardgame"
        )


def _classified(path: str, err: BaseException) -> BaseException:
    """A failure of the storage (full, I/O, read-only, locked) becomes
    :class:`StorageUnavailable`, to be retried; anything else (a constraint broken:
    a bug) stays what it is."""
    if isinstance(err, sqlite3.OperationalError):
        failure = StorageUnavailable(f"{path}: the write failed: {err}")
        failure.__cause__ = err
        return failure
    return err


def _rng_mark(rng: list[Any]) -> tuple[Any, ...]:
    """What tells whether a Mersenne Twister state (``[version, 624 words and the index,
    gauss]``) moved, without its 625 numbers: every draw moves the index, and a run of
    draws that brings it back to where it was regenerated every word on the way (the
    chance that five sampled words all came back too is about 2^-128)."""
    words = rng[1]
    return (words[-1], words[0], words[1], words[312], words[623], rng[2])


class SqliteStore:
    """Rooms, players, game snapshots, move logs and outboxes in one SQLite file."""

    def __init__(self, path: str | Path, readonly: bool = False) -> None:
        """Open (creating and migrating) the file; ``readonly`` only reads what exists."""
        self.path = str(path)
        self._batch = _Batch()
        #: Per room in play, the mark of the generator state last committed (rewritten
        #: when it differs); the state itself, 625 numbers, held ~20 KB a room.
        self._rng_written: dict[str, tuple[Any, ...]] = {}
        if readonly and not Path(self.path).is_file():
            raise StoreError(f"there is no database at {self.path}")
        self._lock: ServerLock | None = None
        if self.path != ":memory:" and not readonly:
            check_writable(Path(self.path))
            self._lock = ServerLock(Path(self.path))  # before anything is read
        target = f"{Path(self.path).absolute().as_uri()}?mode=ro" if readonly else self.path
        try:
            self._db = sqlite3.connect(
                target, check_same_thread=False, isolation_level=None, uri=readonly
            )
        except sqlite3.Error as err:
            self._release()
            raise StoreError(f"cannot open {self.path}: {err}") from None
        try:
            _check_ours(self._db, self.path)
            if not readonly:
                self._migrate()
            elif self._db.execute("PRAGMA user_version").fetchone()[0] != SCHEMA_VERSION:
                raise StoreError(f"{self.path} has an older schema: run cardgame serve on it once")
            self._finished = self._finished_rooms()
        except BaseException:
            self._db.close()
            self._release()
            raise

    def _migrate(self) -> None:
        db = self._db
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute("PRAGMA foreign_keys=ON")
        version = db.execute("PRAGMA user_version").fetchone()[0]
        for number in range(version, SCHEMA_VERSION):
            db.execute("BEGIN IMMEDIATE")
            for statement in MIGRATIONS[number].split(";"):
                if statement.strip():
                    db.execute(statement)
            db.execute(f"PRAGMA application_id={APPLICATION_ID}")
            db.execute(f"PRAGMA user_version={number + 1}")
            db.execute("COMMIT")

    def close(self) -> None:
        self._db.close()
        self._release()

    def _release(self) -> None:
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    def _finished_rooms(self) -> set[str]:
        """The finished games' room ids, kept in memory so that a JOIN_GAME for a room
        that is in no game (a typo, a guess, a flood) costs no read of the file, which
        holds up every room while it runs (~100 bytes a finished game)."""
        sql = "SELECT room_id FROM rooms WHERE finished IS NOT NULL AND result != ?"
        return {room_id for (room_id,) in self._db.execute(sql, (ABANDONED,))}

    async def _run(self, fn: Any, *args: Any) -> Any:
        """Every call on the database goes through here (tests watch it)."""
        return fn(*args)

    # -- writes ---------------------------------------------------------------------

    async def _write(self, statements: list[Statement]) -> None:
        """Group commit: the writes of every room that gets to run before the first of
        them is scheduled again go in one transaction.

        Every caller waits until its own statements are committed, so "written before
        sent" holds; each keeps its order (a room awaits one write at a time), and each
        is a savepoint of its own, so one failing write fails only its caller.
        """
        batch = self._batch
        batch.writes.append(statements)
        index = len(batch.writes) - 1
        if index == 0:  # the first in leads: it lets the others join, then commits
            with trio.CancelScope(shield=True):  # followers wait on it: it must finish
                await trio.lowlevel.checkpoint()
                self._batch = _Batch()  # later arrivals form the next batch
                try:
                    batch.errors = await self._run(self._tx, batch.writes)
                except Exception as err:  # the transaction itself failed: all of it
                    batch.failed = err
                finally:
                    batch.done.set()
        else:
            await batch.done.wait()
        if batch.failed is not None:
            raise _classified(self.path, batch.failed)
        error = batch.errors[index]
        if error is not None:
            raise _classified(self.path, error)

    def _execute(self, statements: list[Statement]) -> None:
        for sql, params in statements:
            if isinstance(params, list):  # one statement, many rows
                self._db.executemany(sql, params)
            else:
                self._db.execute(sql, params)

    def _tx(self, writes: list[list[Statement]]) -> list[BaseException | None]:
        db = self._db
        errors: list[BaseException | None] = []
        db.execute("BEGIN IMMEDIATE")
        try:
            if len(writes) == 1:  # alone in its batch: the transaction is its savepoint
                try:
                    self._execute(writes[0])
                except Exception as err:
                    if not db.in_transaction:
                        raise
                    db.execute("ROLLBACK")
                    return [err]
                db.execute("COMMIT")
                return [None]
            for statements in writes:
                db.execute("SAVEPOINT write")
                try:
                    self._execute(statements)
                except Exception as err:
                    if not db.in_transaction:  # SQLite gave up the whole transaction (disk
                        raise  # full, I/O error): every write of the batch fails with it
                    db.execute("ROLLBACK TO write")
                    errors.append(err)
                else:
                    errors.append(None)
                db.execute("RELEASE write")
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:  # a failed COMMIT must not leave the next BEGIN failing
                db.execute("ROLLBACK")
            raise
        return errors

    async def add_room(
        self,
        room_id: str,
        name: str,
        size: int,
        computers: int = 0,
        turn_seconds: float | None = None,
        spectators: str = "chat",
    ) -> None:
        sql = ("INSERT INTO rooms (room_id, name, size, computers, turn_seconds, spectators, "
               "created) VALUES (?, ?, ?, ?, ?, ?, ?)")  # fmt: skip
        row = (room_id, name, size, computers, turn_seconds, spectators, time.time())
        await self._write([(sql, row)])

    async def free_seat(self, room_id: str, user_id: str) -> None:
        freed = "(SELECT seat FROM players WHERE room_id = ? AND user_id = ?)"
        await self._write([
            # The freed seat's messages go (chat while the room filled); those of the
            # seats after it move up with them, through negative seats so that no two
            # rows meet on the way (the public stream's seat, -1, is not one of them).
            (f"DELETE FROM messages WHERE room_id = ? AND seat = {freed}",
             (room_id, room_id, user_id)),
            (f"UPDATE messages SET seat = -seat - {AWAY} WHERE room_id = ? AND seat > {freed}",
             (room_id, room_id, user_id)),
            (f"UPDATE messages SET seat = -seat - {AWAY + 1} WHERE room_id = ? "
             f"AND seat <= -{AWAY}", (room_id,)),
            (f"UPDATE players SET seat = seat - 1 WHERE room_id = ? AND seat > {freed}",
             (room_id, room_id, user_id)),
            ("DELETE FROM players WHERE room_id = ? AND user_id = ?", (room_id, user_id)),
        ])  # fmt: skip

    async def add_player(
        self, room_id: str, user_id: str, seat: int, name: str, token_hash: str
    ) -> None:
        sql = "INSERT INTO players (room_id, user_id, seat, name, token_hash) VALUES (?,?,?,?,?)"
        await self._write([(sql, (room_id, user_id, seat, name, token_hash))])

    async def record(
        self,
        room_id: str,
        game: Game,
        messages: Iterable[Outgoing],
        move: Move | None = None,
    ) -> None:
        """One applied event: the game after it, its log entry and every message it sent."""
        snapshot = to_snapshot(game)
        rng = snapshot.pop("rng")
        mark = _rng_mark(rng)
        if self._rng_written.get(room_id) != mark:
            write_game: Statement = (
                "INSERT INTO games (room_id, snapshot, rng) VALUES (?, ?, ?) "
                "ON CONFLICT(room_id) DO UPDATE SET "
                "snapshot = excluded.snapshot, rng = excluded.rng",
                (room_id, encode(snapshot), encode(rng)),
            )
        else:  # the row is there, with this very state (committed by an earlier write)
            write_game = (
                "UPDATE games SET snapshot = ? WHERE room_id = ?",
                (encode(snapshot), room_id),
            )
        statements: list[Statement] = [write_game]
        if move is not None:
            n, seat, event = move
            statements.append(
                (
                    "INSERT INTO moves (room_id, n, seat, event, at) VALUES (?, ?, ?, ?, ?)",
                    (room_id, n, seat, encode(event), time.time()),
                )
            )
        rows = [(room_id, seat, int(envelope["msg_id"]), text) for seat, envelope, text in messages]
        if rows:
            sql = "INSERT INTO messages (room_id, seat, msg_id, body) VALUES (?, ?, ?, ?)"
            statements.append((sql, rows))
        result = snapshot.get("result") if snapshot.get("state") == "finished" else None
        if result is not None:
            statements.append(
                (
                    "UPDATE rooms SET finished = ?, result = ? WHERE room_id = ?",
                    (time.time(), encode(result), room_id),
                )
            )
        await self._write(statements)
        self._rng_written[room_id] = mark  # committed: the next write need not repeat it
        if result is not None:
            self._finished.add(room_id)

    async def abandon_room(self, room_id: str) -> None:
        """A room that ended without a game (abandoned, spam): nothing of it is kept."""
        self._rng_written.pop(room_id, None)
        await self._write(
            [(f"DELETE FROM {table} WHERE room_id = ?", (room_id,)) for table in ROOM_TABLES]
        )

    async def prune(self, room_id: str) -> None:
        """The messages of a finished game, once its linger is over (the bulk of it)."""
        await self._write([("DELETE FROM messages WHERE room_id = ?", (room_id,))])

    async def prune_finished(self, before: float) -> None:
        """Finished games older than ``before`` lose their messages; rooms abandoned
        (by a version that kept them, or one whose removal failed) go entirely."""
        finished = "SELECT room_id FROM rooms WHERE finished IS NOT NULL AND finished < ?"
        abandoned = "SELECT room_id FROM rooms WHERE result = ?"
        statements: list[Statement] = [
            (f"DELETE FROM messages WHERE room_id IN ({finished})", (before,))
        ]
        statements += [
            (f"DELETE FROM {table} WHERE room_id IN ({abandoned})", (ABANDONED,))
            for table in ROOM_TABLES
        ]
        await self._write(statements)

    # -- reads ----------------------------------------------------------------------

    def _messages_after(self, room_id: str, seat: int, last_id: int) -> list[dict[str, Any]]:
        rows = self._db.execute(
            "SELECT body FROM messages WHERE room_id = ? AND seat = ? AND msg_id > ? "
            "ORDER BY msg_id",
            (room_id, seat, last_id),
        ).fetchall()
        return [json.loads(body) for (body,) in rows]

    def _seat_of(self, room_id: str, user_id: str, token_hash: str) -> int | None:
        row = self._db.execute(
            "SELECT seat, token_hash FROM players WHERE room_id = ? AND user_id = ?",
            (room_id, user_id),
        ).fetchone()
        return row[0] if row and hmac.compare_digest(row[1], token_hash) else None

    async def seat_of(self, room_id: str, user_id: str, token_hash: str) -> int | None:
        """The seat of a player of a finished game whose token hash matches, if any.

        A room that is not a finished game has no seat here, whatever the file holds:
        an unfinished room whose task is gone is not reported finished.
        """
        if room_id not in self._finished:
            return None
        return await self._run(self._seat_of, room_id, user_id, token_hash)

    async def messages_after(self, room_id: str, seat: int, last_id: int) -> list[dict[str, Any]]:
        """Everything sent to the seat after ``last_id``, in order (for resumption)."""
        return await self._run(self._messages_after, room_id, seat, last_id)

    def _rooms(self, where: str = "", params: tuple[Any, ...] = ()) -> list[StoredRoom]:
        db = self._db
        rooms = []
        rows = db.execute(
            "SELECT r.room_id, r.name, r.size, r.computers, r.turn_seconds, r.spectators, "
            "r.finished, r.result, g.snapshot, g.rng, "
            "(SELECT count(*) FROM moves m WHERE m.room_id = r.room_id) "
            f"FROM rooms r LEFT JOIN games g USING (room_id) {where} ORDER BY r.created",
            params,
        ).fetchall()
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
        ) in rows:
            players = [
                {"user_id": u, "seat": s, "name": n, "token_hash": h}
                for u, s, n, h in db.execute(
                    "SELECT user_id, seat, name, token_hash FROM players "
                    "WHERE room_id = ? ORDER BY seat",
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
                )
            )
        return rooms

    def room_closed(self, room_id: str) -> None:
        """Everything stays on file: finished games are replayed and listed from it."""
        self._rng_written.pop(room_id, None)

    def unfinished_rooms(self) -> list[StoredRoom]:
        """Rooms to restore at start-up (called before the server accepts connections)."""
        return self._rooms("WHERE r.finished IS NULL")

    def all_rooms(self) -> list[StoredRoom]:
        return self._rooms()

    def room(self, room_id: str) -> StoredRoom | None:
        return next(iter(self._rooms("WHERE r.room_id = ?", (room_id,))), None)

    def moves(self, room_id: str) -> list[dict[str, Any]]:
        """The move log of a game, oldest first: ``{n, seat, event, at}``."""
        return [
            {"n": n, "seat": seat, "event": json.loads(event), "at": at}
            for n, seat, event, at in self._db.execute(
                "SELECT n, seat, event, at FROM moves WHERE room_id = ? ORDER BY n", (room_id,)
            )
        ]
