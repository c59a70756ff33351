"""Complete games over the network: a real server, real WebSocket clients, to a winner."""

from __future__ import annotations

import pytest
import trio

from cardgame.fsm.simulate import is_conserved
from cardgame.net.client import GameClient, Ticket, play_with_bot

from tables import fill_room


async def play_seat(url: str, ticket: Ticket, strategy: str, seed: int, results: dict) -> None:
    async with GameClient.connect(url, ticket) as client:
        results[ticket.user_id] = (await play_with_bot(client, strategy, seed), client)


@pytest.mark.parametrize("players", [2, 3, 4, 8])
async def test_network_players_play_a_complete_game(server, players):
    tickets = await fill_room(server.url, players)
    results: dict = {}
    async with trio.open_nursery() as nursery:
        for seat, ticket in enumerate(tickets):
            strategy = "greedy" if seat % 2 else "random"
            nursery.start_soon(play_seat, server.url, ticket, strategy, seat, results)
    assert len(results) == players
    outcomes = {m["payload"]["data"]["result"]["winner"] for m, _ in results.values()}
    assert len(outcomes) == 1 and outcomes != {None}  # one winner, the same for everybody
    [winner] = outcomes
    for final, client in results.values():
        ranking = final["payload"]["data"]["result"]["ranking"]
        assert ranking[0]["seat"] == winner and ranking[0]["cards"] == 0
        ids = [int(m["msg_id"]) for m in client.received]
        assert ids == list(range(1, len(ids) + 1))  # nothing lost, nothing repeated
        # Bots answer the instant they are asked, which can outrun the flood limit (20
        # a second): such a refusal is waited out and the answer sent again; nothing else.
        assert {e["payload"]["data"]["code"] for e in client.errors} <= {"rate_limited"}
    game = server.lobby.rooms[tickets[0].room_id].game
    assert game.state == "finished" and is_conserved(game)


async def test_one_person_with_computers(server):
    [ticket] = await fill_room(server.url, 4, computers=3)
    results: dict = {}
    await play_seat(server.url, ticket, "greedy", 1, results)
    final, client = results[ticket.user_id]
    assert final["payload"]["data"]["event"] == "game_over"
    names = [p["name"] for p in final["payload"]["data"]["players"]]
    assert names[0] == "p0" and all(n.startswith("computer") for n in names[1:])
    assert [p["computer"] for p in final["payload"]["data"]["players"]] == [False, True, True, True]


async def test_every_message_holds_only_the_receivers_hand(server):
    """Hidden information: a message's hand is its receiver's, and nobody else's cards appear."""
    tickets = await fill_room(server.url, 3)
    results: dict = {}
    async with trio.open_nursery() as nursery:
        for seat, ticket in enumerate(tickets):
            nursery.start_soon(play_seat, server.url, ticket, "greedy", seat, results)
    for final, client in results.values():
        me = final["payload"]["data"]["you"]
        for message in client.received:
            data = message["payload"]["data"]
            if isinstance(data, dict) and "players" in data and "hand" in data:
                assert data["you"] == me
                assert all(set(p) == {"name", "cards", "computer"} for p in data["players"])
                assert len(data["hand"]) == data["players"][me]["cards"]


async def test_creator_who_does_not_choose_gets_a_random_first_player(start_server, clock):
    server = await start_server(turn_seconds=30)
    [ticket] = await fill_room(server.url, 2, computers=1)
    async with GameClient.connect(server.url, ticket) as client:
        while client.question is None:
            await client.receive()
        assert client.question["payload"]["data"]["question"] == "first_player"
        assert client.question["payload"]["return_type"] == "INT"
        asked_at = trio.current_time()
        while True:
            message = await client.receive()
            if message["payload"]["data"].get("event") == "turn":
                break
        assert trio.current_time() - asked_at == pytest.approx(30, abs=0.5)
        assert "plays first" in message["payload"]["prompt"]
