"""The lobby: rooms listed, seats taken, Scenario A, and the roommates ticker."""

from __future__ import annotations

import pytest
import trio

from cardgame.net.client import GameClient, LobbyClient, ServerError
from cardgame.net.sqlite_store import SqliteStore


async def test_rooms_listed_until_full(server):
    async with LobbyClient.connect(server.url) as ada, LobbyClient.connect(server.url) as bob:
        assert await ada.get_rooms() == ([], [])
        ticket = await ada.create_room("kitchen", 3, "ada")
        [room], _ = await bob.get_rooms()
        assert room == {
            "room_id": ticket.room_id,
            "room_name": "kitchen",
            "num_of_players": 3,
            "players": ["ada"],
            "computers": 0,
            "seats_left": 2,
        }
        await bob.join_room(ticket.room_id, "bob")
    async with LobbyClient.connect(server.url) as cy:
        [room], _ = await cy.get_rooms()
        assert room["seats_left"] == 1 and room["players"] == ["ada", "bob"]
        await cy.join_room(ticket.room_id, "cy")
        assert await cy.get_rooms() == ([], [])  # full rooms are not listed


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("ADA", "name_taken"),
        ("x" * 33, "bad_message"),
        ("bad\x07name", "bad_name"),
        (" ", "bad_name"),
    ],
)
async def test_join_refusals_change_nothing(server, name, code):
    async with LobbyClient.connect(server.url) as ada, LobbyClient.connect(server.url) as bob:
        ticket = await ada.create_room("kitchen", 3, "ada")
        with pytest.raises(ServerError) as refused:
            await bob.join_room(ticket.room_id, name)
        assert refused.value.code == code
        [room], _ = await bob.get_rooms()
        assert room["players"] == ["ada"]
        await bob.join_room(ticket.room_id, "bob")  # the session is still in the lobby


async def test_unknown_and_full_rooms_are_refused(server):
    async with LobbyClient.connect(server.url) as ada, LobbyClient.connect(server.url) as bob:
        with pytest.raises(ServerError, match="unknown_room"):
            await bob.join_room("nosuchroom", "bob")
        ticket = await ada.create_room("duo", 2, "ada", computers=1)
        with pytest.raises(ServerError, match="room_full"):
            await bob.join_room(ticket.room_id, "bob")


async def test_scenario_a_others_see_the_room_being_created_and_get_it_pushed(server):
    async with LobbyClient.connect(server.url) as ada, LobbyClient.connect(server.url) as bob:
        await ada.get_rooms()
        await bob.get_rooms()
        creation = await ada.creating("ada")
        pushed = await bob.next_push()
        assert pushed["cmd"] == "ROOM_BEING_CREATED" and pushed["payload"]["data"] == creation
        rooms, being_created = await bob.get_rooms()
        assert rooms == [] and being_created == [creation]
        # bob chooses to wait: the room arrives the moment it has an id
        ticket = await ada.create_room("kitchen", 2, "ada")
        pushed = await bob.next_push()
        assert pushed["cmd"] == "ROOM_CREATED"
        assert pushed["payload"]["data"]["creation_id"] == creation["creation_id"]
        assert pushed["payload"]["data"]["room"]["room_id"] == ticket.room_id
        assert (await bob.get_rooms())[1] == []
        await bob.join_room(ticket.room_id, "bob")


async def test_scenario_a_create_your_own_instead_of_waiting(server):
    async with LobbyClient.connect(server.url) as ada, LobbyClient.connect(server.url) as bob:
        await ada.creating("ada")
        await bob.get_rooms()
        ticket = await bob.create_room("bobs", 2, "bob")
        rooms, being_created = await ada.get_rooms()
        assert [r["room_id"] for r in rooms] == [ticket.room_id]
        assert [c["user_name"] for c in being_created] == ["ada"]


async def test_scenario_a_cancelled_creation_disappears_for_everyone(server):
    async with LobbyClient.connect(server.url) as ada, LobbyClient.connect(server.url) as bob:
        await bob.get_rooms()
        creation = await ada.creating("ada")
        assert (await bob.next_push())["cmd"] == "ROOM_BEING_CREATED"
        await ada.cancel_create()
        gone = await bob.next_push()
        assert gone["cmd"] == "ROOM_ABANDONED" and gone["payload"]["data"] == creation
        assert await bob.get_rooms() == ([], [])
        assert (await ada.get_rooms())[1] == []  # ada is back in the lobby
        await ada.create_room("kitchen", 2, "ada")  # and may create one now


async def test_scenario_a_creator_disconnecting_abandons_the_creation(server):
    async with LobbyClient.connect(server.url) as bob:
        await bob.get_rooms()
        async with LobbyClient.connect(server.url) as ada:
            creation = await ada.creating("ada")
            assert (await bob.next_push())["cmd"] == "ROOM_BEING_CREATED"
        gone = await bob.next_push()
        assert gone["cmd"] == "ROOM_ABANDONED" and gone["payload"]["data"] == creation
        assert await bob.get_rooms() == ([], [])


async def receive_until(client: GameClient, cmd: str) -> dict:
    while True:
        message = await client.receive()
        if message["cmd"] == cmd:
            return message


async def test_roommates_ticker_every_4_seconds_once_per_player_until_full(start_server, clock):
    server = await start_server(roommates_interval=4.0, turn_seconds=1000)
    async with LobbyClient.connect(server.url) as lobby:
        ada_ticket = await lobby.create_room("kitchen", 2, "ada")
    async with GameClient.connect(server.url, ada_ticket) as ada:
        joined = await receive_until(ada, "JOIN_GAME_REP")
        assert [p["name"] for p in joined["payload"]["data"]["players"]] == ["ada"]
        start = trio.current_time()
        ticks = []
        for _ in range(3):
            await receive_until(ada, "GET_ROOMATES_REP")
            ticks.append(trio.current_time() - start)
        assert ticks == pytest.approx([4, 8, 12], abs=0.2)
        # a second connection of the same player does not start a second ticker
        async with GameClient.connect(server.url, ada_ticket, ada.last_msg_id) as again:
            await receive_until(again, "JOIN_GAME_REP")
            start = trio.current_time()
            await receive_until(again, "GET_ROOMATES_REP")
            await receive_until(again, "GET_ROOMATES_REP")
            assert trio.current_time() - start == pytest.approx(8, abs=0.2)
            async with LobbyClient.connect(server.url) as lobby:
                bob_ticket = await lobby.join_room(ada_ticket.room_id, "bob")
            async with GameClient.connect(server.url, bob_ticket) as bob:
                began = await receive_until(bob, "GAME_MESSAGE_REP")
                assert began["payload"]["data"]["event"] == "game_begin"
                mine = await receive_until(again, "GAME_MESSAGE_REP")
                assert mine["payload"]["data"]["event"] == "game_begin"
                assert len(mine["payload"]["data"]["hand"]) == 8
                # full: every ticker has stopped; forty quiet seconds bring no roommates
                stopped_at = trio.current_time()
                with trio.move_on_after(40):
                    message = await again.receive()
                    pytest.fail(f"a message after the game began and nobody moved: {message}")
                assert trio.current_time() - stopped_at == pytest.approx(40, abs=0.2)
                # bob's ticker, started by the very join that began the game, stopped too
                room = server.lobby.rooms[ada_ticket.room_id]
                assert len(room._tickers) == 2
                assert all(ticker.cancel_called for ticker in room._tickers)


async def test_a_room_nobody_comes_back_to_closes(start_server, clock, tmp_path):
    """A room that has not filled closes after ``abandoned_after`` with nobody connected;
    while somebody is connected it stays."""
    store = SqliteStore(tmp_path / "games.db")
    server = await start_server(store, abandoned_after=600, roommates_interval=4.0)
    async with LobbyClient.connect(server.url) as lobby:
        ticket = await lobby.create_room("empty", 3, "ada")
    room = server.lobby.rooms[ticket.room_id]
    async with GameClient.connect(server.url, ticket) as ada:
        await receive_until(ada, "JOIN_GAME_REP")
        with trio.move_on_after(1000):  # ada is there: the room stays however long
            await room.closed.wait()
        assert not room.closed.is_set()
    left_at = trio.current_time()
    await room.closed.wait()
    assert trio.current_time() - left_at == pytest.approx(600, abs=1)
    async with LobbyClient.connect(server.url) as lobby:
        rooms, _ = await lobby.get_rooms()
    assert ticket.room_id not in [r["room_id"] for r in rooms]
    assert store.unfinished_rooms() == []  # not restored after a restart either
    async with LobbyClient.connect(server.url) as lobby:
        with pytest.raises(ServerError) as refused:
            await lobby.join_room(ticket.room_id, "bob")
    assert refused.value.code == "unknown_room"
    store.close()
