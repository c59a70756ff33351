"""The PostgreSQL store on a real throwaway cluster: the same guarantees as SQLite's, a
database that is not ours refused untouched, and leases that fence every write.

Two ``PgStore`` objects on one database are two server processes as far as the
database can tell (each has its own process id and connections). A lease is made to
run out by moving its end into the past in SQL — the database's clock is the one
leases are read on — so no test waits for time to pass.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
import trio
from click.testing import CliRunner

from cardgame.cli.main import main
from cardgame.fsm.game import Game
from cardgame.fsm.snapshot import from_snapshot, to_snapshot
from cardgame.net.client import GameClient
from cardgame.net.config import ServerConfig
from cardgame.net.pg_store import FENCE, MIGRATIONS, SCHEMA_VERSION, PgStore
from cardgame.net.protocol import encode
from cardgame.net.server import serve
from cardgame.net.store import LeaseLost, StoreError, open_store, shown

from tables import event_of, fill_room, play_on


def sent(messages):
    """Messages as a room hands them to the store: each with its JSON text."""
    return [(seat, message, encode(message)) for seat, message in messages]


def expire(url: str, room_id: str) -> None:
    """The room's lease runs out now (as it would had its owner stopped renewing)."""
    with psycopg.connect(url, autocommit=True) as db:
        db.execute(
            "UPDATE rooms SET lease_until = clock_timestamp() - interval '1 second' "
            "WHERE room_id = %s",
            (room_id,),
        )


def test_open_store_picks_postgresql_from_the_url(pg_url):
    store = open_store(pg_url)
    try:
        assert isinstance(store, PgStore)
        with psycopg.connect(pg_url) as db:
            assert db.execute("SELECT application, version FROM cardgame_schema").fetchall() == [
                ("cardgame", SCHEMA_VERSION)
            ]
    finally:
        store.close()
    PgStore(pg_url).close()  # opening our own database again migrates nothing


def test_a_database_that_is_not_ours_is_refused_untouched(pg_url):
    with psycopg.connect(pg_url, autocommit=True) as db:
        db.execute("CREATE TABLE invoices (n integer)")
        db.execute("INSERT INTO invoices VALUES (1), (2)")
    with pytest.raises(StoreError, match="not a cardgame database.*untouched"):
        PgStore(pg_url)
    with psycopg.connect(pg_url) as db:
        tables = db.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
        ).fetchall()
        assert tables == [("invoices",)]
        assert db.execute("SELECT count(*) FROM invoices").fetchone() == (2,)


def test_a_newer_schema_is_refused(pg_url):
    PgStore(pg_url).close()
    with psycopg.connect(pg_url, autocommit=True) as db:
        db.execute("UPDATE cardgame_schema SET version = version + 1")
    with pytest.raises(StoreError, match="newer than this cardgame"):
        PgStore(pg_url)


def test_an_unreachable_database_is_a_clear_error(pg_cluster):
    with pytest.raises(StoreError, match="cannot open"):
        PgStore(pg_cluster.url("no_such_database"))


def test_a_password_in_the_url_is_never_printed(pg_url):
    secret = pg_url.replace("cardgame@", "cardgame:s3cret@", 1) + "&password=s3cret"
    cardgame = str(Path(sys.executable).with_name("cardgame"))
    command = [cardgame, "serve", "--port", "0", "--db", secret]
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    ) as p:
        assert p.stdout is not None
        lines = [p.stdout.readline(), p.stdout.readline()]  # listening, database
        p.send_signal(signal.SIGINT)
        lines += p.stdout.readlines()
    assert lines[1] == f"database: {pg_url}\n", lines
    listed = subprocess.run([cardgame, "games", "--db", secret], capture_output=True, text=True)
    assert listed.returncode == 0 and listed.stdout.startswith(f"database: {pg_url}\n")
    assert "s3cret" not in "".join(lines) + listed.stdout + listed.stderr


def test_shown_keeps_everything_but_the_password():
    assert shown("postgresql://ann:pw@db.example:5433/games?sslmode=require") == (
        "postgresql://ann@db.example:5433/games?sslmode=require"
    )
    assert shown("postgres://ann@/games?password=pw&host=/run/pg") == (
        "postgres://ann@/games?host=/run/pg"
    )
    assert shown("postgresql:///games?password=pw") == "postgresql:///games"
    assert shown("/home/ann/a:b@c.db") == "/home/ann/a:b@c.db"  # a file name is a file name


async def test_a_game_on_postgresql_completes_and_is_kept(pg_url):
    store = open_store(pg_url)
    try:
        async with trio.open_nursery() as nursery:
            config = ServerConfig(host="127.0.0.1", port=0)
            server = await nursery.start(serve, config, store)
            tickets = await fill_room(server.url, 3, computers=1)
            results = {}

            async def player(seat, ticket):
                async with GameClient.connect(server.url, ticket) as client:
                    results[seat] = (await play_on(client, seed=seat), client)

            async with trio.open_nursery() as players:
                for seat, ticket in enumerate(tickets):
                    players.start_soon(player, seat, ticket)
            nursery.cancel_scope.cancel()
        for _, client in results.values():
            ids = [int(m["msg_id"]) for m in client.received]
            assert ids == list(range(1, len(ids) + 1))
            assert event_of(client.received[-1]) == "game_over"
        kept = store.room(tickets[0].room_id)
        assert kept is not None and kept.finished and kept.result["reason"] == "won"
        assert store.moves(tickets[0].room_id)[0]["event"]["action"] == "begin"
        for seat, (_, client) in results.items():
            stored = await store.messages_after(tickets[0].room_id, seat, 0)
            assert stored == client.received  # every message sent was committed first
    finally:
        store.close()
    listing = CliRunner().invoke(main, ["games", "--db", pg_url])
    assert listing.exit_code == 0 and tickets[0].room_id in listing.output
    replay = CliRunner().invoke(main, ["replay", tickets[0].room_id, "--db", pg_url])
    assert replay.exit_code == 0 and "won" in replay.output


async def test_the_generator_state_is_written_when_it_moved_and_the_snapshot_stays_exact(
    pg_url,
):
    """The random generator's state (most of a snapshot) has a column of its own,
    written only when the generator was used since this process last committed it; a
    process that takes the room over writes it again first."""
    first, second = PgStore(pg_url), PgStore(pg_url)
    try:
        await first.add_room("r1", "kitchen", 2)
        game = Game(2, seed=1, room="r1")
        with psycopg.connect(pg_url, autocommit=True) as db:

            def on_file() -> tuple[str, dict]:
                rng, snapshot = db.execute("SELECT rng, snapshot FROM games").fetchone()
                return rng, json.loads(snapshot)

            await first.record("r1", game, sent([(0, {"msg_id": "1", "cmd": "X"})]))
            written, snapshot = on_file()
            assert "rng" not in snapshot and json.loads(written) == to_snapshot(game)["rng"]
            game.join("ada")  # no draw: the same state, not written again
            db.execute("UPDATE games SET rng = 'untouched'")
            await first.record("r1", game, sent([(0, {"msg_id": "2", "cmd": "X"})]))
            assert on_file()[0] == "untouched"
            game.table.rng.random()  # the generator moved (as a shuffle does)
            await first.record("r1", game, sent([(0, {"msg_id": "3", "cmd": "X"})]))
            assert json.loads(on_file()[0]) == to_snapshot(game)["rng"]
            [room] = first._rooms(first._db)
            assert room.snapshot == to_snapshot(game)
            assert from_snapshot(room.snapshot).table.rng.random() == game.table.rng.random()

            expire(pg_url, "r1")
            [taken] = await second.claim("r1")
            db.execute("UPDATE games SET rng = 'stale'")
            restored = from_snapshot(taken.snapshot)
            await second.record("r1", restored, sent([(0, {"msg_id": "4", "cmd": "X"})]))
            assert json.loads(on_file()[0]) == to_snapshot(restored)["rng"]
    finally:
        first.close()
        second.close()


def test_a_version_3_database_is_migrated_and_its_snapshots_read_as_written(pg_url):
    snapshot = to_snapshot(Game(2, seed=3, room="r1"))
    with psycopg.connect(pg_url, autocommit=True) as db:
        for migration in MIGRATIONS[:3]:
            db.execute(migration)
        db.execute("INSERT INTO cardgame_schema VALUES ('cardgame', 3)")
        db.execute("INSERT INTO rooms (room_id, name, size, created) VALUES ('r1', 'k', 2, 0)")
        db.execute("INSERT INTO games VALUES ('r1', %s)", (json.dumps(snapshot),))
    store = PgStore(pg_url)
    try:
        [room] = store.unfinished_rooms()
        assert room.snapshot == snapshot
        with psycopg.connect(pg_url) as db:
            assert db.execute("SELECT version FROM cardgame_schema").fetchone() == (SCHEMA_VERSION,)
    finally:
        store.close()


async def test_a_write_after_the_lease_ran_out_is_refused_and_another_process_takes_over(
    pg_url,
):
    first, second = PgStore(pg_url), PgStore(pg_url)
    try:
        game = Game(2, seed=1, room="r1")
        await first.add_room("r1", "kitchen", 2)
        await first.add_player("r1", "u1", 0, "ada", "hash")
        await first.record("r1", game, sent([(0, {"msg_id": "1", "cmd": "X"})]), (1, None, {}))
        assert await second.claim("r1") == []  # the lease is alive: not second's
        with pytest.raises(LeaseLost):
            await second.record("r1", game, sent([(0, {"msg_id": "2", "cmd": "X"})]))

        expire(pg_url, "r1")
        with pytest.raises(LeaseLost):  # run out: the owner commits nothing more
            await first.record("r1", game, sent([(0, {"msg_id": "2", "cmd": "X"})]), (2, None, {}))
        assert await first.renew(["r1"]) == set()  # nor can it renew a lease that ran out
        [taken] = await second.claim("r1")
        assert taken.room_id == "r1" and taken.moves_logged == 1
        assert [p["user_id"] for p in taken.players] == ["u1"]
        await second.record("r1", game, sent([(0, {"msg_id": "2", "cmd": "Y"})]), (2, None, {}))
        with pytest.raises(LeaseLost):  # the old owner stays fenced off for good
            await first.add_player("r1", "u2", 1, "bob", "hash")
        messages = await second.messages_after("r1", 0, 0)
        assert [(m["msg_id"], m["cmd"]) for m in messages] == [("1", "X"), ("2", "Y")]
        assert await second.renew(["r1"]) == {"r1"}
    finally:
        first.close()
        second.close()


async def test_a_process_frozen_inside_a_write_does_not_hold_its_room_for_ever(pg_url):
    """A process stopped halfway through a write holds the room's row lock, which every
    claim needs: the database ends that transaction once it has been idle a third of
    the lease, so the room can be claimed once the lease has run out."""
    first, second = PgStore(pg_url, lease_seconds=0.9), PgStore(pg_url, lease_seconds=0.9)
    frozen = first._connect()  # as each of first's connections is set up
    try:
        await first.add_room("r1", "kitchen", 2)
        frozen.execute("BEGIN")
        assert frozen.execute(FENCE, ("r1", first.process_id)).fetchone() == (1,)
        with trio.fail_after(20):
            await trio.to_thread.run_sync(expire, pg_url, "r1", abandon_on_cancel=True)
            [taken] = await second.claim("r1")
        assert taken.room_id == "r1"
        with pytest.raises(psycopg.Error):
            frozen.execute("COMMIT")  # woken: its transaction is gone
        assert frozen.closed
    finally:
        frozen.close()
        first.close()
        second.close()


async def running_a_statement(url: str, pids: list[int]) -> None:
    """Until the database sees each of these connections in the middle of a statement,
    waiting for the rest of it from the client (not idle in a transaction)."""
    with psycopg.connect(url, autocommit=True) as db:
        while db.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE pid = ANY(%s) AND state = 'active' "
            "AND wait_event = 'ClientRead' AND xact_start IS NOT NULL",
            (pids,),
        ).fetchone() != (len(pids),):
            await trio.sleep(0.01)


async def test_a_process_frozen_in_the_middle_of_a_pipeline_is_ended_by_the_claim(pg_url):
    """Frozen between two messages of a write's pipeline (the fence sent, the Sync not),
    a process holds the room's row lock while the database sees a statement running,
    not an idle transaction: no timeout of PostgreSQL 15's ends it (this hung the room,
    and tests/test_pg_failover.py with it). The process that claims the room ends it
    once the frozen process's own lease has run out; a live process's open write is
    left alone."""
    first, second, third = PgStore(pg_url), PgStore(pg_url), PgStore(pg_url)
    frozen, busy = first._connect(), third._connect()  # as their own connections are
    try:
        await first.add_room("r1", "kitchen", 2)
        await third.add_room("r2", "hall", 2)
        await first.renew(["r1"])
        await third.renew(["r2"])
        expire(pg_url, "r1")
        with psycopg.connect(pg_url, autocommit=True) as db:
            db.execute(
                "UPDATE processes SET lease_until = clock_timestamp() - interval '1 second' "
                "WHERE process_id = %s",
                (first.process_id,),
            )
        with trio.fail_after(20), busy.pipeline():
            busy.execute("BEGIN")
            busy.execute(FENCE, ("r2", third.process_id))
            busy.pgconn.flush()
            with pytest.raises(psycopg.OperationalError), frozen.pipeline():
                frozen.execute("BEGIN")
                frozen.execute("SELECT 1 FROM rooms WHERE room_id = 'r1' FOR NO KEY UPDATE")
                frozen.pgconn.flush()  # sent; the Sync that ends the round trip never is
                await running_a_statement(pg_url, [frozen.info.backend_pid, busy.info.backend_pid])
                [taken] = await second.claim("r1")
                assert taken.room_id == "r1"
        assert frozen.closed
        busy.execute("COMMIT")  # third's lease is alive: its write went on
        assert await third.renew(["r2"]) == {"r2"}
    finally:
        for conn in (frozen, busy):
            conn.close()
        for store in (first, second, third):
            store.close()


async def test_claims_race_and_exactly_one_process_wins_each_room(pg_url):
    """Three processes claim twenty orphaned rooms at once: each goes to exactly one."""
    owner = PgStore(pg_url)
    claimers = [PgStore(pg_url) for _ in range(3)]
    try:
        for n in range(20):
            await owner.add_room(f"r{n}", "t", 2)
            expire(pg_url, f"r{n}")
        won: dict[int, list[str]] = {}

        async def claim(index: int, store: PgStore) -> None:
            won[index] = [room.room_id for room in await store.claim(limit=7)]

        async with trio.open_nursery() as nursery:
            for index, store in enumerate(claimers):
                nursery.start_soon(claim, index, store)
        everyone = [r for rooms in won.values() for r in rooms]
        assert sorted(everyone) == sorted(set(everyone))  # nobody's twice
        assert len(everyone) == 20
        with psycopg.connect(pg_url) as db:
            owners = dict(db.execute("SELECT room_id, owner FROM rooms").fetchall())
        for index, store in enumerate(claimers):
            assert all(owners[r] == store.process_id for r in won[index])
    finally:
        owner.close()
        for store in claimers:
            store.close()


async def test_abandoned_rooms_go_and_finished_games_are_pruned_to_their_log(pg_url):
    store = PgStore(pg_url)
    try:
        game = Game(2, seed=1, room="gone")
        await store.add_room("gone", "empty", 2)
        await store.add_player("gone", "u1", 0, "ada", "hash")
        await store.record("gone", game, sent([(0, {"msg_id": "1", "cmd": "X"})]), (1, None, {}))
        await store.abandon_room("gone")
        assert store.room("gone") is None and store.moves("gone") == []

        await store.add_room("done", "played", 2)
        await store.add_player("done", "u1", 0, "ada", "hash")
        assert await store.seat_of("done", "u1", "hash") is None  # not finished: no seat
        await store.record("done", game, sent([(0, {"msg_id": "1", "cmd": "X"})]), (1, None, {}))
        with psycopg.connect(pg_url, autocommit=True) as db:
            db.execute('UPDATE rooms SET finished = 1, result = \'{"reason": "won"}\'')
        assert await store.seat_of("done", "u1", "hash") == 0
        assert await store.seat_of("done", "u1", "other") is None
        await store.prune_finished(before=2)
        assert await store.messages_after("done", 0, 0) == []
        assert len(store.moves("done")) == 1 and store.room("done").result == {"reason": "won"}
    finally:
        store.close()
