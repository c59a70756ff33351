"""Games that only the clocks move on: four players who never answer, and a server
restarted in the middle of a question (its clocks start afresh, with the room's own
seconds). Virtual time (MockClock); a real SQLite file for the restart."""

from __future__ import annotations

import pytest
import trio

from cardgame.fsm.game import FINISHED
from cardgame.fsm.simulate import is_conserved
from cardgame.net.client import GameClient, LobbyClient
from cardgame.net.config import ServerConfig
from cardgame.net.server import serve
from cardgame.net.sqlite_store import SqliteStore

from tables import event_of, fill_room

SECONDS = 10
LIMIT = 5_000  # virtual seconds


async def silent(url: str, ticket, clients: dict, key: int) -> None:
    """Connect and read everything, answer nothing, until the server lets go."""
    async with GameClient.connect(url, ticket) as client:
        clients[key] = client
        while not client.over:
            await client.receive()


async def test_four_players_who_never_answer_finish_by_clocks_alone(start_server, clock):
    server = await start_server(turn_seconds=SECONDS, idle_turns=3, grace_period=10_000)
    tickets = await fill_room(server.url, 4)
    clients: dict[int, GameClient] = {}
    with trio.fail_after(LIMIT):
        async with trio.open_nursery() as nursery:
            for seat, ticket in enumerate(tickets):
                nursery.start_soon(silent, server.url, ticket, clients, seat)
        room = server.lobby.rooms[tickets[0].room_id]
        await room.done.wait()
    game = room.game
    assert game.state == FINISHED and is_conserved(game)
    assert game.result["reason"] in ("won", "no_humans")
    for seat, client in clients.items():
        ids = [int(m["msg_id"]) for m in client.received]
        assert ids == list(range(1, len(ids) + 1)), f"seat {seat}: {ids}"
        assert client.received[-1]["cmd"] == "LEAVE_REP"  # each idled out, in turn
        said = [m["payload"]["prompt"] for m in client.received]
        assert any(f"p{seat} let the clock run out 3 turns in a row" in p for p in said)
        assert client.duplicates == 0


async def test_a_restarted_server_starts_the_clock_afresh_with_the_rooms_seconds(tmp_path, clock):
    path = tmp_path / "games.db"
    config = ServerConfig(host="127.0.0.1", port=0, turn_seconds=45, idle_turns=0)
    store = SqliteStore(path)
    with trio.fail_after(LIMIT):
        async with trio.open_nursery() as nursery:
            server = await nursery.start(serve, config, store)
            async with LobbyClient.connect(server.url) as lobby:
                a = await lobby.create_room("table", 2, "ada", turn_seconds=30)
            async with LobbyClient.connect(server.url) as lobby:
                b = await lobby.join_room(a.room_id, "bob")
            async with (
                GameClient.connect(server.url, a) as ada,
                GameClient.connect(server.url, b) as bob,
            ):
                while ada.question is None:
                    await ada.receive()
                await ada.answer(0)
                while ada.question is None or ada.question["payload"]["data"]["question"] != (
                    "turn"
                ):
                    await ada.receive()
                await trio.sleep(20)  # two thirds of ada's 30 s gone: then the server stops
                nursery.cancel_scope.cancel()
        store.close()
        store = SqliteStore(path)
        async with trio.open_nursery() as nursery:
            server = await nursery.start(serve, config, store)
            restarted = trio.current_time()
            async with GameClient.connect(server.url, b, last_msg_id=bob.last_msg_id) as bob2:
                while (joined := await bob2.receive())["cmd"] != "JOIN_GAME_REP" or (
                    joined["payload"]["data"]["reply_to"] != bob2._hello_id
                ):
                    pass  # the first connection's JOIN_GAME_REP, replayed, comes first
                clock_now = joined["payload"]["data"]["clock"]
                assert clock_now["seats"] == [0] and clock_now["seconds"] == 30
                assert clock_now["seconds_left"] == pytest.approx(30, abs=0.5)
                while "ada ran out of time" not in (await bob2.receive())["payload"]["prompt"]:
                    pass
                assert trio.current_time() - restarted == pytest.approx(30, abs=0.5)
            nursery.cancel_scope.cancel()
        store.close()


async def test_after_a_restart_nobody_returns_and_the_game_completes(tmp_path, clock):
    path = tmp_path / "games.db"
    config = ServerConfig(host="127.0.0.1", port=0, turn_seconds=SECONDS, idle_turns=3)
    store = SqliteStore(path)
    with trio.fail_after(LIMIT):
        async with trio.open_nursery() as nursery:
            server = await nursery.start(serve, config, store)
            tickets = await fill_room(server.url, 3, computers=1)
            async with (
                GameClient.connect(server.url, tickets[0]) as ada,
                GameClient.connect(server.url, tickets[1]) as bob,
            ):
                while event_of(await bob.receive()) != "game_begin":
                    pass
                while ada.question is None:
                    await ada.receive()
                nursery.cancel_scope.cancel()  # mid-question: the first player
        store.close()
        store = SqliteStore(path)
        async with trio.open_nursery() as nursery:
            server = await nursery.start(serve, config, store)
            room = server.lobby.rooms[tickets[0].room_id]
            await room.done.wait()
            game = room.game
            assert game.state == FINISHED and is_conserved(game)
            nursery.cancel_scope.cancel()
        store.close()
    [stored] = [r for r in SqliteStore(path, readonly=True).all_rooms()]
    assert stored.finished and stored.result["reason"] in ("won", "no_humans")
