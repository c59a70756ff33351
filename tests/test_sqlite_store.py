"""The SQLite store: what is written is read back in order; foreign files are never touched."""

import hashlib
import json
import sqlite3

import pytest
import trio

from cardgame.fsm.game import Game
from cardgame.fsm.snapshot import from_snapshot, to_snapshot
from cardgame.net.protocol import encode
from cardgame.net.sqlite_store import APPLICATION_ID, MIGRATIONS, SCHEMA_VERSION, SqliteStore
from cardgame.net.store import StoreError


def sent(messages):
    """Messages as a room hands them to the store: each with its JSON text."""
    return [(seat, message, encode(message)) for seat, message in messages]


async def test_record_and_read_back(tmp_path):
    path = tmp_path / "games.db"
    store = SqliteStore(path)
    await store.add_room("r1", "kitchen", 2)
    await store.add_player("r1", "u1", 0, "ada", "hash-a")
    game = Game(2, seed=1)
    game.join("ada")
    _, messages = game.join("bob")
    await store.record("r1", game, sent(messages), move=(1, None, {"event": "join"}))
    store.close()

    reopened = SqliteStore(path)
    [room] = reopened.unfinished_rooms()
    assert (room.room_id, room.name, room.size, room.finished) == ("r1", "kitchen", 2, False)
    assert room.snapshot == to_snapshot(game)
    assert room.players == [{"user_id": "u1", "seat": 0, "name": "ada", "token_hash": "hash-a"}]
    sent_to_bob = [m for seat, m in messages if seat == 1]
    assert await reopened.messages_after("r1", 1, 0) == sent_to_bob
    assert await reopened.messages_after("r1", 1, int(sent_to_bob[-1]["msg_id"])) == []
    assert reopened.moves("r1")[0]["event"] == {"event": "join"}


async def test_failed_transaction_writes_nothing(tmp_path):
    store = SqliteStore(tmp_path / "g.db")
    await store.add_room("r1", "kitchen", 2)
    game = Game(2, seed=1)
    message = (0, {"cmd": "X", "msg_id": "1", "payload": {}})
    await store.record("r1", game, sent([message]))
    game.join("ada")
    with pytest.raises(sqlite3.IntegrityError):  # the same msg_id twice: refused whole
        await store.record("r1", game, sent([message]))
    game = Game(2, seed=1)
    [room] = store.unfinished_rooms()
    assert room.snapshot == to_snapshot(game)


async def test_concurrent_writes_commit_together_and_fail_alone(tmp_path):
    """Group commit: rooms writing at once share transactions; a bad write fails only
    its own caller, and every good one is on file when its caller resumes."""
    store = SqliteStore(tmp_path / "g.db")
    rooms = [f"r{n}" for n in range(20)]
    for room in rooms:
        await store.add_room(room, room, 2)
    outcome: dict[str, object] = {}

    async def write(room: str, msg_id: str) -> None:
        game = Game(2, seed=1)
        try:
            await store.record(
                room, game, sent([(0, {"cmd": "X", "msg_id": msg_id, "payload": {}})])
            )
            outcome[room] = await store.messages_after(room, 0, 0)
        except sqlite3.IntegrityError as err:
            outcome[room] = err

    await store.record(
        "r0", Game(2, seed=1), sent([(0, {"cmd": "X", "msg_id": "1", "payload": {}})])
    )
    async with trio.open_nursery() as nursery:
        for room in rooms:
            nursery.start_soon(write, room, "1" if room == "r0" else "7")  # r0: a repeat
    assert isinstance(outcome.pop("r0"), sqlite3.IntegrityError)
    assert all(m == [{"cmd": "X", "msg_id": "7", "payload": {}}] for m in outcome.values())
    assert len(store.unfinished_rooms()) == 20
    store.close()


async def test_a_full_disk_fails_the_batch_with_its_own_error_and_the_store_goes_on(tmp_path):
    store = SqliteStore(tmp_path / "g.db")
    await store.add_room("r1", "kitchen", 2)
    pages = store._db.execute("PRAGMA page_count").fetchone()[0]
    store._db.execute(f"PRAGMA max_page_count = {pages + 1}")
    huge = {"cmd": "X", "msg_id": "1", "payload": {"prompt": "x" * 100_000}}
    with pytest.raises(StoreError, match="full"):
        await store.record("r1", Game(2, seed=1), sent([(0, huge)]))
    store._db.execute("PRAGMA max_page_count = 1000000")
    small = {"cmd": "X", "msg_id": "1", "payload": {}}
    await store.record("r1", Game(2, seed=1), sent([(0, small)]))
    assert await store.messages_after("r1", 0, 0) == [small]
    store.close()


def message(msg_id: int) -> tuple[int, dict]:
    return (0, {"cmd": "X", "msg_id": str(msg_id), "payload": {}})


async def test_the_generator_state_is_written_when_it_changed_and_the_snapshot_stays_exact(
    tmp_path,
):
    """The snapshot's random generator state has a column of its own, rewritten only
    when the generator was used; a write that failed does not count as written."""
    path = tmp_path / "g.db"
    store = SqliteStore(path)
    await store.add_room("r1", "kitchen", 2)
    game = Game(2, seed=1)

    def rng_on_file() -> str:
        return store._db.execute("SELECT rng FROM games").fetchone()[0]

    await store.record("r1", game, sent([message(1)]))
    first = rng_on_file()
    assert "rng" not in json.loads(store._db.execute("SELECT snapshot FROM games").fetchone()[0])
    game.join("ada")  # no draw: the same state, not written again
    await store.record("r1", game, sent([message(2)]))
    assert rng_on_file() == first
    game.table.rng.random()  # the generator moved (as a shuffle does)
    with pytest.raises(sqlite3.IntegrityError):  # refused whole: nothing of it on file
        await store.record("r1", game, sent([message(2)]))
    assert rng_on_file() == first
    await store.record("r1", game, sent([message(3)]))
    assert rng_on_file() != first
    store.close()

    reopened = SqliteStore(path)
    [room] = reopened.unfinished_rooms()
    assert room.snapshot == to_snapshot(game)
    assert from_snapshot(room.snapshot).table.rng.random() == game.table.rng.random()
    reopened.close()


def test_a_version_2_file_is_migrated_and_its_snapshots_read_as_written(tmp_path):
    path = tmp_path / "old.db"
    db = sqlite3.connect(path, isolation_level=None)
    for migration in MIGRATIONS[:2]:
        db.executescript(migration)
    db.execute(f"PRAGMA application_id={APPLICATION_ID}")
    db.execute("PRAGMA user_version=2")
    snapshot = to_snapshot(Game(2, seed=3, room="r1"))
    db.execute("INSERT INTO rooms (room_id, name, size, created) VALUES ('r1', 'k', 2, 0)")
    db.execute("INSERT INTO games VALUES ('r1', ?)", (json.dumps(snapshot),))
    db.close()
    store = SqliteStore(path)
    [room] = store.unfinished_rooms()
    assert room.snapshot == snapshot
    assert store._db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    store.close()


async def test_a_version_5_file_keeps_its_messages_in_the_rowid_table(tmp_path):
    path = tmp_path / "v5.db"
    db = sqlite3.connect(path, isolation_level=None)
    for migration in MIGRATIONS[:5]:
        db.executescript(migration)
    db.execute(f"PRAGMA application_id={APPLICATION_ID}")
    db.execute("PRAGMA user_version=5")
    db.execute("INSERT INTO rooms (room_id, name, size, created) VALUES ('r1', 'k', 2, 0)")
    bodies = [message(n)[1] for n in (1, 2, 3)]
    db.executemany(
        "INSERT INTO messages VALUES ('r1', 1, ?, ?)",
        [(int(m["msg_id"]), encode(m)) for m in reversed(bodies)],
    )
    db.close()
    store = SqliteStore(path)
    assert await store.messages_after("r1", 1, 1) == bodies[1:]
    sql = "SELECT sql FROM sqlite_master WHERE name = 'messages'"
    assert "WITHOUT ROWID" not in store._db.execute(sql).fetchone()[0]
    store.close()


def test_new_file_gets_schema_and_application_id(tmp_path):
    path = tmp_path / "new.db"
    SqliteStore(path).close()
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_corrupted_file_is_refused_and_untouched(tmp_path):
    path = tmp_path / "corrupt.db"
    path.write_bytes(b"this is not a database at all, just some bytes" * 100)
    before = digest(path)
    with pytest.raises(StoreError, match="not a cardgame database"):
        SqliteStore(path)
    assert digest(path) == before


def test_foreign_sqlite_file_is_refused_and_untouched(tmp_path):
    path = tmp_path / "foreign.db"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE accounts (id INTEGER PRIMARY KEY, balance INTEGER)")
    db.execute("INSERT INTO accounts VALUES (1, 100)")
    db.commit()
    db.close()
    before = digest(path)
    with pytest.raises(StoreError, match="another application"):
        SqliteStore(path)
    assert digest(path) == before


def test_newer_schema_is_refused(tmp_path):
    path = tmp_path / "future.db"
    SqliteStore(path).close()
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version={SCHEMA_VERSION + 1}")
    db.commit()
    db.close()
    with pytest.raises(StoreError, match="newer"):
        SqliteStore(path)
