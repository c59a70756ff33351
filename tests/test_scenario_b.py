"""Scenario B over the network: a player leaves, the others vote, a computer takes over.

Every step of DESIGN.md's flow is checked from the clients' side: the pause with each
player's own state, the leaver's LEAVE_REP and closed connection, CREATE_A_COMPUTER
with a vote question to each remaining human, and the game's end or resumption.
"""

from __future__ import annotations

import json

import pytest
import trio
from trio_websocket import ConnectionClosed

from cardgame.fsm.simulate import is_conserved
from cardgame.net.client import GameClient, LobbyClient, ServerError, Ticket

from tables import event_of, fill_room, play_on


async def leave(url: str, ticket: Ticket, when: trio.Event, saved: dict, left: trio.Event) -> None:
    """Scenario B steps 1-6 from the leaver's side."""
    async with GameClient.connect(url, ticket) as client:
        await when.wait()
        await client.request_leave()
        while event_of(message := await client.receive()) != "paused":
            pass
        state = message["payload"]["data"]
        assert state["state"] == "paused"
        saved[ticket.user_id] = json.loads(json.dumps(state))  # what the terminal client saves
        await client.leave()
        while (reply := await client.receive())["cmd"] != "LEAVE_REP":
            pass
        assert reply["payload"]["data"]["hand"] == state["hand"]
        with pytest.raises(ConnectionClosed):  # step 6: the server closes the leaver's side
            while True:
                await client.ws.get_message()
    left.set()


async def stay(url: str, ticket: Ticket, vote: str, results: dict, started: trio.Event) -> None:
    async with GameClient.connect(url, ticket) as client:
        original = client.receive

        async def watching() -> dict:
            message = await original()
            if event_of(message) in ("turn", "played"):
                started.set()
            return message

        client.receive = watching  # type: ignore[method-assign]
        results[ticket.user_id] = (await play_on(client, vote=vote), client)


async def play_out(server, tickets, leavers, vote, started, results, saved) -> None:
    async with trio.open_nursery() as nursery:
        when = started
        for seat in leavers:
            left = trio.Event()
            nursery.start_soon(leave, server.url, tickets[seat], when, saved, left)
            when = left  # a second leaver asks while the others vote on the first
        for seat, ticket in enumerate(tickets):
            if seat not in leavers:
                nursery.start_soon(stay, server.url, ticket, vote, results, started)


async def scenario_b(server, players: int, leavers: list[int], vote: str) -> dict:
    tickets = await fill_room(server.url, players)
    started = trio.Event()
    results: dict = {}
    saved: dict = {}
    with trio.fail_after(30):  # a hang is a failure with a traceback, not a stuck run
        await play_out(server, tickets, leavers, vote, started, results, saved)
    assert len(saved) == len(leavers)
    room = server.lobby.rooms[tickets[0].room_id]
    assert is_conserved(room.game)
    return {"results": results, "room": room, "tickets": tickets}


def votes_seen(client: GameClient) -> list[dict]:
    return [m for m in client.received if m["cmd"] == "CREATE_A_COMPUTER"]


@pytest.mark.parametrize("players", [3, 4])
async def test_vote_yes_a_computer_takes_the_seat_and_finishes_the_game(server, players):
    outcome = await scenario_b(server, players, leavers=[1], vote="yes")
    room = outcome["room"]
    assert room.game.seats[1].computer and room.players[1].computer
    for final, client in outcome["results"].values():
        result = final["payload"]["data"]["result"]
        assert result["reason"] == "won"
        [asked] = votes_seen(client)
        assert asked["payload"]["next_cmd"] == "PICK_OPTION"
        assert asked["payload"]["extra_data"] == ["yes", "no"]
        assert any(event_of(m) == "resumed" for m in client.received)
    # the game in play is not offered in the lobby, though a person's seat is empty
    async with LobbyClient.connect(server.url) as lobby:
        rooms, _ = await lobby.get_rooms()
    assert outcome["tickets"][0].room_id not in [r["room_id"] for r in rooms]
    # the leaver's seat is not theirs any more
    with pytest.raises(ServerError) as refused:
        async with GameClient.connect(server.url, outcome["tickets"][1]) as client:
            while True:
                message = await client.receive()
                if message["cmd"] == "ERROR":
                    raise ServerError(message)
    assert refused.value.code == "not_playing"


@pytest.mark.parametrize("players", [3, 4])
async def test_vote_no_ends_the_game_with_a_saved_result(server, players):
    outcome = await scenario_b(server, players, leavers=[1], vote="no")
    for final, _ in outcome["results"].values():
        assert final["payload"]["data"]["result"]["reason"] == "vote_failed"
    assert outcome["room"].game.state == "finished"


@pytest.mark.parametrize("players", [3, 4])
async def test_a_second_leave_during_the_vote(server, players):
    outcome = await scenario_b(server, players, leavers=[1, 2], vote="yes")
    game = outcome["room"].game
    assert game.seats[1].computer and game.seats[2].computer
    for final, client in outcome["results"].values():
        assert final["payload"]["data"]["result"]["reason"] == "won"
        # a vote for the first leaver, then the pause, then one vote on both seats
        assert len(votes_seen(client)) == 2
        paused = [m for m in client.received if event_of(m) == "paused"]
        assert len(paused) == 2


async def test_leave_then_gone_at_once_leaves_the_room_running(server):
    """LEAVE followed by an immediate close: the leave is applied, nobody else notices."""
    tickets = await fill_room(server.url, 3)
    results: dict = {}
    started = trio.Event()
    with trio.fail_after(30):
        async with trio.open_nursery() as nursery:
            for ticket in (tickets[0], tickets[2]):
                nursery.start_soon(stay, server.url, ticket, "yes", results, started)
            async with GameClient.connect(server.url, tickets[1]) as leaver:
                await started.wait()
                await leaver.request_leave()
                while event_of(await leaver.receive()) != "paused":
                    pass
                await leaver.leave()
                await leaver.ws.aclose()  # gone before the room has handled LEAVE
    assert tickets[0].room_id in server.lobby.rooms
    for final, _ in results.values():
        assert final["payload"]["data"]["result"]["reason"] == "won"
