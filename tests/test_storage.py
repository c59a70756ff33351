"""The database under hostile load and faults: one server per file, start-up checks that
say what is wrong, no store read for rooms nobody knows, roommates answers not stored.

Each test that runs a server plays a witness game in another room, which must finish.
"""

from __future__ import annotations

import json
import os
import random
import secrets
import shutil
import sqlite3
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import trio
from click.testing import CliRunner
from trio_websocket import open_websocket_url

from cardgame.cli.main import main
from cardgame.fsm.bots import make_bot
from cardgame.net.client import (
    Backoff,
    GameClient,
    LobbyClient,
    ServerError,
    Ticket,
    bot_view,
    question_of,
)
from cardgame.net.sqlite_store import SqliteStore
from cardgame.net.store import StoreError

from tables import CARDGAME, event_of, fill_room, free_port, play_on, running_server, start_serve

NOBODY = 65534


async def witness_game(url: str, ticket: Ticket | None = None, seed: int = 0) -> dict:
    """A game in a room of its own (``ticket``'s, or a new one), played to the end:
    whatever else happens must not stop it."""
    if ticket is None:
        [ticket] = await fill_room(url, 2, computers=1, name="witness")
    async with GameClient.connect(url, ticket) as client:
        over = await play_on(client, seed=seed)
    assert event_of(over) == "game_over"
    return over


# -- one server per database ---------------------------------------------------------


async def test_a_second_server_on_the_same_database_is_refused_and_the_first_plays_on(
    tmp_path,
):
    db = tmp_path / "games.db"
    with trio.fail_after(60):
        async with trio.open_nursery() as nursery:
            port = free_port()
            first, _ = await start_serve(nursery, db, port)
            second = await trio.run_process(
                [CARDGAME, "serve", "--port", str(free_port()), "--db", str(db)],
                capture_stdout=True,
                capture_stderr=True,
                check=False,
            )
            await witness_game(f"ws://127.0.0.1:{port}")
            first.terminate()
            await first.wait()
    assert second.returncode == 1
    said = second.stderr.decode().strip()
    assert said.count("\n") == 0, said  # one line
    assert f"another cardgame server (pid {first.pid}) is using {db}" in said
    # Once the first has stopped, the file is free again (the kernel dropped its lock).
    SqliteStore(db).close()


def test_a_second_store_in_one_process_is_refused_too(tmp_path):
    first = SqliteStore(tmp_path / "g.db")
    try:
        with pytest.raises(StoreError, match=r"another cardgame server \(pid \d+\)"):
            SqliteStore(tmp_path / "g.db")
        SqliteStore(tmp_path / "g.db", readonly=True).close()  # `cardgame games` still reads
    finally:
        first.close()
    SqliteStore(tmp_path / "g.db").close()


# -- start-up says exactly what is wrong -----------------------------------------------


@contextmanager
def shared_directory() -> Iterator[Path]:
    """A directory an unprivileged user can reach (pytest's tmp_path is private)."""
    path = Path(tempfile.mkdtemp(prefix="cardgame-"))
    path.chmod(0o755)
    try:
        yield path
    finally:
        for child in [path, *path.rglob("*")]:
            child.chmod(0o755 if child.is_dir() else 0o644)
        shutil.rmtree(path)


async def serve_unprivileged(db: Path) -> str:
    """``cardgame serve --db`` as a user who owns nothing here (root writes anywhere)."""
    command = [CARDGAME, "serve", "--port", "0", "--db", str(db)]
    if os.geteuid() == 0:
        command = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups",
                   *command]  # fmt: skip
    done = await trio.run_process(command, capture_stdout=True, capture_stderr=True, check=False)
    assert done.returncode == 1, done
    return done.stderr.decode().strip()


async def test_a_read_only_directory_is_named_as_the_problem():
    with shared_directory() as top:
        locked = top / "locked"
        locked.mkdir()
        SqliteStore(locked / "games.db").close()
        locked.chmod(0o555)
        said = await serve_unprivileged(locked / "games.db")
    assert f"the directory {locked} is not writable (Permission denied)" in said
    assert "games.db-wal" in said and "not a cardgame database" not in said


async def test_a_read_only_database_file_is_named_as_the_problem():
    with shared_directory() as top:
        top.chmod(0o777)  # the directory is writable by anyone, the file is not
        SqliteStore(top / "games.db").close()
        (top / "games.db").chmod(0o644)
        said = await serve_unprivileged(top / "games.db")
        top.chmod(0o755)
    assert f"{top / 'games.db'} is not writable (Permission denied)" in said


# -- no store read for a room nobody knows --------------------------------------------


async def test_a_flood_of_join_game_for_unknown_rooms_never_reads_the_store(start_server, tmp_path):
    store = SqliteStore(tmp_path / "games.db")
    calls: list[tuple[str, tuple]] = []
    original = store._run

    async def watched(fn, *args):
        calls.append((fn.__name__, args))
        return await original(fn, *args)

    store._run = watched  # type: ignore[method-assign]
    server = await start_server(store)
    bogus = {secrets.token_hex(4) for _ in range(200)}
    refusals: list[str] = []

    async def flood(room_ids: list[str]) -> None:
        for room_id in room_ids:
            async with open_websocket_url(server.url + "/game") as ws:
                hello = {"room_id": room_id, "user_id": "u", "token": "t", "last_msg_id": 0}
                await ws.send_message(json.dumps(
                    {"cmd": "JOIN_GAME", "msg_id": "1", "payload": {"data": hello}}
                ))  # fmt: skip
                refusals.append(json.loads(await ws.get_message())["payload"]["data"]["code"])

    with trio.fail_after(60):
        async with trio.open_nursery() as nursery:
            ids = sorted(bogus)
            for part in range(10):
                nursery.start_soon(flood, ids[part::10])
            await witness_game(server.url)
    assert refusals == ["unknown_room"] * len(bogus)
    touched = [(name, args) for name, args in calls if set(map(str, args)) & bogus]
    assert touched == []
    assert any(name == "_tx" for name, _ in calls)  # the witness's writes did go through it
    store.close()


async def test_a_stored_room_that_is_not_finished_is_never_reported_finished(tmp_path):
    store = SqliteStore(tmp_path / "games.db")
    await store.add_room("r1", "kitchen", 2)
    await store.add_player("r1", "u1", 0, "ada", "hash-a")
    assert await store.seat_of("r1", "u1", "hash-a") is None  # unfinished: no seat here
    store.close()


# -- roommates answers are a status ---------------------------------------------------


async def test_get_roomates_in_a_game_is_answered_unnumbered_and_not_stored(start_server, tmp_path):
    store = SqliteStore(tmp_path / "games.db")
    server = await start_server(store)
    [ticket] = await fill_room(server.url, 2, computers=1)
    with trio.fail_after(30):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(witness_game, server.url)
            async with GameClient.connect(server.url, ticket) as client:
                while client.question is None:
                    await client.receive()
                stored = await store.messages_after(ticket.room_id, 0, 0)
                for _ in range(5):
                    await client.roommates()
                answers = []
                while len(answers) < 5:
                    message = await client.receive()
                    assert message["cmd"] == "GET_ROOMATES_REP"
                    answers.append(message)
                assert {m["msg_id"] for m in answers} == {"0"}
                assert answers[0]["payload"]["data"]["you"] == 0
                assert await store.messages_after(ticket.room_id, 0, 0) == stored
                await play_on(client)
    store.close()


# -- storage faults -------------------------------------------------------------------

FAST = Backoff(first=0.01, cap=0.1, attempts=50)


async def set_page_limit(store: SqliteStore, extra_pages: int | None) -> None:
    """SQLite's max_page_count: the file may not grow past its size now (a full disk),
    or may grow freely again (``None``: space is back)."""

    def limit() -> None:
        pages = store._db.execute("PRAGMA page_count").fetchone()[0]
        ceiling = 2**31 - 2 if extra_pages is None else pages + extra_pages
        store._db.execute(f"PRAGMA max_page_count = {ceiling}")

    await store._run(limit)


def storage_errors(client: GameClient) -> list[dict]:
    return [e for e in client.errors if e["payload"]["data"]["code"] == "storage_unavailable"]


async def test_a_full_disk_holds_the_room_tells_its_players_and_it_goes_on_when_space_returns(
    start_server, tmp_path
):
    store = SqliteStore(tmp_path / "games.db")
    server = await start_server(store, storage_retry=0.05)
    [ticket] = await fill_room(server.url, 2, computers=1)
    [witness] = await fill_room(server.url, 2, computers=1, name="witness")
    bot = make_bot("greedy", random.Random(1))
    with trio.fail_after(60):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(witness_game, server.url, witness)
            async with GameClient.connect(server.url, ticket, backoff=FAST) as client:
                while client.question is None:
                    await client.receive()
                await set_page_limit(store, 0)  # the disk is full from now on
                while not storage_errors(client):  # moves until one cannot be written
                    if client.question is not None:
                        asked = client.question
                        decision = bot.decide(question_of(asked), bot_view(client.view))
                        await client.answer(decision.data, decision.last_card)
                    await client.receive()
                [refusal] = storage_errors(client)
                assert refusal["msg_id"] == "0"
                assert refusal["payload"]["data"]["cmd"] == "GAME_MESSAGE"
                held_at = client.last_msg_id
                # The room holds: what the move sent is not sent, since it is not written.
                assert client.question is None
                written = await store.messages_after(ticket.room_id, 0, 0)
                assert int(written[-1]["msg_id"]) == held_at
                # The player drops meanwhile; a reconnection waits for the room too.
                await client.ws.aclose()
                await set_page_limit(store, None)  # space is back
                over = await play_on(client, seed=1)
    assert event_of(over) == "game_over"
    ids = [int(m["msg_id"]) for m in client.received]
    assert ids == list(range(1, len(ids) + 1)) and client.duplicates == 0
    assert client.reconnects >= 1 and ids[-1] > held_at
    codes = {e["payload"]["data"]["code"] for e in client.errors}
    assert codes <= {"storage_unavailable"}  # never game_finished for a game going on
    finished = store.room(ticket.room_id)
    assert finished is not None and finished.finished and finished.result is not None
    assert client.received == await store.messages_after(ticket.room_id, 0, 0)
    store.close()


async def test_lobby_writes_that_fail_are_refused_with_storage_unavailable_and_change_nothing(
    start_server, tmp_path
):
    """Another program holds the database's write lock: the lobby cannot write."""
    store = SqliteStore(tmp_path / "games.db")
    await store._run(store._db.execute, "PRAGMA busy_timeout = 20")
    server = await start_server(store, storage_retry=0.05)
    async with LobbyClient.connect(server.url) as lobby:
        waiting = await lobby.create_room("kitchen", 3, "ada")
    [witness] = await fill_room(server.url, 2, computers=1, name="witness")
    other = sqlite3.connect(tmp_path / "games.db", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # the write lock, held
    with trio.fail_after(60):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(witness_game, server.url, witness)  # held until the lock goes
            async with LobbyClient.connect(server.url) as lobby:
                rooms = set(server.lobby.rooms)
                with pytest.raises(ServerError) as created:
                    await lobby.create_room("attic", 2, "bob")
                with pytest.raises(ServerError) as joined:
                    await lobby.join_room(waiting.room_id, "bob")
                for refused, cmd in ((created, "CREATE_A_ROOM"), (joined, "JOIN_ROOM")):
                    message = refused.value.message
                    assert message["msg_id"] == "0"
                    assert message["payload"]["data"] == {"code": "storage_unavailable", "cmd": cmd}
                    assert "try again" in message["payload"]["prompt"]
                assert set(server.lobby.rooms) == rooms  # no room was created
                assert [p.name for p in server.lobby.rooms[waiting.room_id].players] == ["ada"]
                other.execute("ROLLBACK")  # the lock is gone
                again = await lobby.join_room(waiting.room_id, "bob")
                assert again.room_id == waiting.room_id
    other.close()
    store.close()


async def test_lobby_writes_on_a_full_disk_are_refused_with_storage_unavailable_and_change_nothing(
    start_server, tmp_path
):
    """SQLite's max_page_count as a full disk: a room that cannot be written is not
    created (the connection stays open, the ERROR says so), and once space is back
    rooms are created again; the witness's game, held meanwhile, finishes."""
    store = SqliteStore(tmp_path / "games.db")
    server = await start_server(store, storage_retry=0.05)
    [witness] = await fill_room(server.url, 2, computers=1, name="witness")
    with trio.fail_after(60):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(witness_game, server.url, witness)
            async with LobbyClient.connect(server.url) as lobby:
                await set_page_limit(store, 0)  # the disk is full from now on
                refusal = None
                for number in range(300):  # until the free pages left are used up
                    rooms = set(server.lobby.rooms)
                    # a connection per room: a created room seats its creator, and a
                    # seated connection may not create another (not_now)
                    async with LobbyClient.connect(server.url) as creator:
                        try:
                            await creator.create_room("x" * 32, 8, f"p{number}")
                        except ServerError as refused:
                            refusal = refused
                            break
                assert refusal is not None, "the file never filled"
                message = refusal.message
                assert message["payload"]["data"] == {"code": "storage_unavailable",
                                                      "cmd": "CREATE_A_ROOM"}  # fmt: skip
                assert set(server.lobby.rooms) == rooms  # no room was created
                await set_page_limit(store, None)  # space is back
                again = await lobby.create_room("attic", 2, "bob")
                assert again.room_id in server.lobby.rooms
    store.close()


# -- a bounded database ---------------------------------------------------------------


def count_rows(store: SqliteStore, table: str, room_id: str) -> int:
    sql = f"SELECT count(*) FROM {table} WHERE room_id = ?"
    return store._db.execute(sql, (room_id,)).fetchone()[0]


async def test_a_finished_game_keeps_its_log_and_result_but_not_its_messages(
    start_server, tmp_path
):
    db = tmp_path / "games.db"
    store = SqliteStore(db)
    server = await start_server(store, finished_linger=0)
    [ticket] = await fill_room(server.url, 2, computers=1)
    room = server.lobby.rooms[ticket.room_id]
    with trio.fail_after(30):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(witness_game, server.url)
            async with GameClient.connect(server.url, ticket) as client:
                over = await play_on(client, seed=2)
            await room.closed.wait()  # its linger is over, its messages pruned
        async with GameClient.connect(server.url, ticket, last_msg_id=3) as late:
            refusal = await late.receive()
    assert refusal["payload"]["data"]["code"] == "game_finished" and late.received == []
    assert count_rows(store, "messages", ticket.room_id) == 0
    moves = count_rows(store, "moves", ticket.room_id)
    assert moves >= 3 and count_rows(store, "players", ticket.room_id) == 1
    result = over["payload"]["data"]["result"]
    assert store.room(ticket.room_id).result == result
    runner = CliRunner()
    listing = runner.invoke(main, ["games", "--db", str(db)])
    assert listing.exit_code == 0, listing.output
    line = next(line for line in listing.output.splitlines() if ticket.room_id in line)
    assert f"{moves:>4} moves  won by " in line
    replay = runner.invoke(main, ["replay", ticket.room_id, "--db", str(db)])
    # the database read, the room, one line per move, the result
    assert replay.exit_code == 0 and replay.output.count("\n") == moves + 3
    store.close()


async def test_an_abandoned_room_leaves_nothing_in_the_database(start_server, clock, tmp_path):
    store = SqliteStore(tmp_path / "games.db")
    server = await start_server(store, abandoned_after=600)
    async with LobbyClient.connect(server.url) as lobby:
        ticket = await lobby.create_room("spam", 3, "ada")
    room = server.lobby.rooms[ticket.room_id]
    async with trio.open_nursery() as nursery:
        nursery.start_soon(witness_game, server.url)
        await room.closed.wait()  # nobody came for 600 s
    for table in ("rooms", "players", "games", "moves", "messages"):
        assert count_rows(store, table, ticket.room_id) == 0, table
    assert store.room(ticket.room_id) is None
    store.close()


async def test_start_up_prunes_what_a_stop_during_the_linger_left(tmp_path):
    store = SqliteStore(tmp_path / "games.db")
    with trio.fail_after(30):
        async with running_server(store, finished_linger=3600) as server:
            [ticket] = await fill_room(server.url, 2, computers=1)
            async with GameClient.connect(server.url, ticket) as client:
                await play_on(client)
        assert count_rows(store, "messages", ticket.room_id) > 0  # stopped while lingering
        async with running_server(store, finished_linger=0) as again:
            await witness_game(again.url)
    assert count_rows(store, "messages", ticket.room_id) == 0
    assert count_rows(store, "moves", ticket.room_id) > 0
    store.close()
