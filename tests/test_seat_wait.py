"""A seat reserved and never taken up is freed: in every store, and over the network
(the lobby shows it open again, somebody else takes it, the game begins)."""

from __future__ import annotations

import pytest
import trio

from cardgame.net.client import GameClient, LobbyClient, unpack_pushes
from cardgame.net.memory_store import MemoryStore
from cardgame.net.pg_store import PgStore
from cardgame.net.sqlite_store import SqliteStore

from tables import event_of, fill_room, play_on

WAIT = 30
LIMIT = 200  # virtual seconds


@pytest.fixture(params=["sqlite", "postgresql"])
def lasting_store(request, tmp_path):
    if request.param == "sqlite":
        store = SqliteStore(tmp_path / "games.db")
    else:
        store = PgStore(request.getfixturevalue("pg_url"))
    yield store
    store.close()


async def seat_three(store) -> None:
    await store.add_room("r1", "kitchen", 4, computers=1, turn_seconds=30)
    for seat, name in enumerate(["ada", "bob", "cy"]):
        await store.add_player("r1", f"u{seat}", seat, name, f"hash-{name}")


async def test_a_freed_seat_is_forgotten_and_the_seats_after_it_move_up(lasting_store):
    await seat_three(lasting_store)
    await lasting_store.free_seat("r1", "u1")
    room = lasting_store.room("r1")
    assert [(p["seat"], p["name"]) for p in room.players] == [(0, "ada"), (1, "cy")]
    assert room.turn_seconds == 30 and room.computers == 1
    await lasting_store.add_player("r1", "u3", 2, "dee", "hash-dee")
    assert [p["name"] for p in lasting_store.room("r1").players] == ["ada", "cy", "dee"]


async def test_a_room_created_without_its_own_clock_keeps_none(lasting_store):
    await lasting_store.add_room("r2", "hall", 2)
    assert lasting_store.room("r2").turn_seconds is None


async def test_the_memory_store_frees_a_seat_too():
    store = MemoryStore()
    await seat_three(store)
    await store.free_seat("r1", "u1")
    assert await store.seat_of("r1", "u1", "hash-bob") is None
    assert await store.seat_of("r1", "u2", "hash-cy") == 1
    assert await store.seat_of("r1", "u0", "hash-ada") == 0


async def next_update(lobby: LobbyClient, room_id: str) -> dict:
    while True:
        for push in unpack_pushes(await lobby.next_push()):
            if push["cmd"] == "ROOM_UPDATED" and push["payload"]["data"]["room_id"] == room_id:
                return push["payload"]["data"]


async def test_a_seat_never_connected_is_freed_shown_open_and_taken_again(start_server, clock):
    server = await start_server(seat_wait=WAIT, turn_seconds=20, idle_turns=0)
    with trio.fail_after(LIMIT):
        async with LobbyClient.connect(server.url) as watcher:
            await watcher.get_rooms()
            async with LobbyClient.connect(server.url) as lobby:
                ada = await lobby.create_room("table", 3, "ada", computers=1)
            async with GameClient.connect(server.url, ada) as creator:
                async with LobbyClient.connect(server.url) as lobby:
                    bob = await lobby.join_room(ada.room_id, "bob")
                joined_at = trio.current_time()
                full = await next_update(watcher, ada.room_id)
                assert full["seats_left"] == 0
                opened = await next_update(watcher, ada.room_id)
                assert trio.current_time() - joined_at == pytest.approx(WAIT, abs=0.5)
                assert opened["seats_left"] == 1 and opened["players"] == ["ada"]
                [listed] = [r for r in (await watcher.get_rooms())[0]
                            if r["room_id"] == ada.room_id]  # fmt: skip
                assert listed["seats_left"] == 1
                # bob's ticket is no good any more; his name is free again
                async with GameClient.connect(server.url, bob) as late:
                    refusal = await late.receive()
                assert refusal["payload"]["data"]["code"] == "bad_token"
                async with LobbyClient.connect(server.url) as lobby:
                    again = await lobby.join_room(ada.room_id, "bob")
                async with (
                    GameClient.connect(server.url, again) as second,
                    trio.open_nursery() as nursery,
                ):
                    nursery.start_soon(play_on, second, 2)
                    final = await play_on(creator, seed=1)
                    nursery.cancel_scope.cancel()
    room = server.lobby.rooms[ada.room_id]
    assert [p.name for p in room.players] == ["ada", "bob", "computer-1"]
    assert [s.name for s in room.game.seats] == ["ada", "bob", "computer-1"]
    assert event_of(final) == "game_over"


async def test_a_seat_connected_in_time_is_kept(start_server, clock):
    server = await start_server(seat_wait=WAIT, turn_seconds=20, idle_turns=0)
    with trio.fail_after(LIMIT):
        a, b = await fill_room(server.url, 3, computers=1)
        async with GameClient.connect(server.url, a):
            await trio.sleep(WAIT - 5)
            async with GameClient.connect(server.url, b) as bob:
                begun = await bob.receive()
                while event_of(begun) != "game_begin":
                    begun = await bob.receive()
                await trio.sleep(WAIT)
                assert [p.name for p in server.lobby.rooms[a.room_id].players] == [
                    "p0",
                    "p1",
                    "computer-1",
                ]


async def test_the_seats_after_a_freed_one_keep_their_messages(lasting_store):
    """Their messages move up with them (chat while the room filled is stored); the
    freed seat's go; the public stream stays where it is."""
    from cardgame.fsm.game import Game
    from cardgame.net.protocol import encode

    await seat_three(lasting_store)
    game = Game(4, seed=1, room="r1")
    told = [game.tell(seat, "CHAT_REP", f"to {seat}", {}) for seat in (0, 1, 2, 2)]
    told.append(game.tell_public("CHAT_REP", "to all", {}))
    await lasting_store.record("r1", game, [(s, m, encode(m)) for s, m in told])
    await lasting_store.free_seat("r1", "u1")
    prompts = {
        seat: [m["payload"]["prompt"] for m in await lasting_store.messages_after("r1", seat, 0)]
        for seat in (-1, 0, 1, 2)
    }
    assert prompts == {-1: ["to all"], 0: ["to 0"], 1: ["to 2", "to 2"], 2: []}


async def test_a_player_who_moved_up_misses_nothing(start_server, clock):
    """cy connected and was told things as seat 2; bob's seat (1) is freed, so cy is
    seat 1 now: the game's first message to cy is numbered after what cy saw."""
    server = await start_server(seat_wait=WAIT, turn_seconds=20, idle_turns=0)
    with trio.fail_after(LIMIT):
        tickets = {}
        for name in ("ada", "bob", "cy"):
            async with LobbyClient.connect(server.url) as lobby:
                if name == "ada":
                    tickets[name] = await lobby.create_room("table", 4, name, computers=1)
                else:
                    tickets[name] = await lobby.join_room(tickets["ada"].room_id, name)
        async with (
            GameClient.connect(server.url, tickets["ada"]) as ada,
            GameClient.connect(server.url, tickets["cy"]) as cy,
        ):
            await cy.receive()  # JOIN_GAME_REP: number 1 for cy
            await ada.chat("where is bob?")
            assert (await cy.receive())["cmd"] == "CHAT_REP"  # number 2
            await trio.sleep(WAIT + 1)  # bob never came: cy moves up to seat 1
            async with LobbyClient.connect(server.url) as lobby:
                dee = await lobby.join_room(tickets["ada"].room_id, "dee")
            async with GameClient.connect(server.url, dee):
                while event_of(await cy.receive()) != "game_begin":
                    pass
    assert cy.duplicates == 0
    assert [int(m["msg_id"]) for m in cy.received] == list(range(1, len(cy.received) + 1))
    assert cy.received[-1]["payload"]["data"]["you"] == 1
