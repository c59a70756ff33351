"""Where the server and specs/protocol.md once disagreed, or the spec left a client guessing.

Each test pins what the spec says now, on a real server over loopback.
"""

from __future__ import annotations

import json

import trio
from trio_websocket import open_websocket_url

from cardgame.net.client import GameClient
from cardgame.net.config import ServerConfig
from cardgame.net.server import serve
from cardgame.net.sqlite_store import SqliteStore

from tables import event_of, fill_room, play_on, running_server


async def test_after_game_over_every_command_is_refused_outside_the_stream(server):
    """protocol.md, "After game_over": the session is closed; GET_ROOMATES is not_now."""
    [ticket] = await fill_room(server.url, 2, computers=1)
    with trio.fail_after(30):
        async with GameClient.connect(server.url, ticket) as client:
            await play_on(client, seed=1)
            await client.roommates()
            refusal = await client.receive()
    assert refusal["cmd"] == "ERROR" and refusal["msg_id"] == "0"
    assert refusal["payload"]["data"] == {"code": "not_now", "cmd": "GET_ROOMATES"}


async def test_leave_without_asking_first_is_not_leaving_outside_the_stream(server):
    [ticket] = await fill_room(server.url, 2, computers=1)
    with trio.fail_after(30):
        async with GameClient.connect(server.url, ticket) as client:
            while event_of(await client.receive()) != "game_begin":
                pass
            await client.leave()
            refusal = await client.receive()
    assert refusal["msg_id"] == "0"
    assert refusal["payload"]["data"] == {"code": "not_leaving", "cmd": "LEAVE"}


async def test_join_game_for_a_finished_game_in_an_open_room_is_game_finished(server):
    """The error table: what it missed, then game_finished, then the close."""
    [ticket] = await fill_room(server.url, 2, computers=1)
    with trio.fail_after(30):
        async with GameClient.connect(server.url, ticket) as client:
            await play_on(client, seed=2)
        assert not server.lobby.rooms[ticket.room_id].closing  # the room lingers, open
        async with GameClient.connect(server.url, ticket, last_msg_id=2) as late:
            while (message := await late.receive())["cmd"] != "ERROR":
                pass
    assert message["payload"]["data"] == {"code": "game_finished", "cmd": "JOIN_GAME"}
    assert message["msg_id"] == "0" and late.over
    assert late.received == client.received[2:]  # no new JOIN_GAME_REP was numbered


async def test_join_game_rep_quotes_the_join_game_it_answers(server):
    """A replayed JOIN_GAME_REP of an earlier connection is told from this one's own."""
    [ticket] = await fill_room(server.url, 2, computers=1)
    hello = {"room_id": ticket.room_id, "user_id": ticket.user_id, "token": ticket.token}
    with trio.fail_after(30):
        for number, msg_id in enumerate(["first", "second"]):
            async with open_websocket_url(server.url + "/game") as ws:
                frame = {"cmd": "JOIN_GAME", "msg_id": msg_id, "payload": {"data": hello}}
                await ws.send_message(json.dumps(frame))
                joins = []
                while len(joins) <= number:
                    message = json.loads(await ws.get_message())
                    if message["cmd"] == "JOIN_GAME_REP":
                        joins.append(message["payload"]["data"]["reply_to"])
    assert joins == ["first", "second"]  # the second connection is replayed the first's


async def test_after_a_restart_every_back_follows_an_away(tmp_path):
    """The server stops with both players connected, so it never told anyone "away";
    the restarted server does, and "back" when each returns."""
    path = tmp_path / "games.db"
    store = SqliteStore(path)
    with trio.fail_after(30):
        async with trio.open_nursery() as nursery:
            server = await nursery.start(serve, ServerConfig(host="127.0.0.1", port=0), store)
            a, b = await fill_room(server.url, 2)
            async with (
                GameClient.connect(server.url, b) as bob,
                GameClient.connect(server.url, a) as ada,
            ):
                while event_of(await ada.receive()) != "game_begin":
                    pass
                while event_of(await bob.receive()) != "game_begin":
                    pass
                nursery.cancel_scope.cancel()  # the server goes down under both players
        store.close()
        store = SqliteStore(path)
        async with running_server(store) as server:
            bob2 = GameClient.connect(server.url, b, last_msg_id=bob.last_msg_id)
            ada2 = GameClient.connect(server.url, a, last_msg_id=ada.last_msg_id)
            async with bob2 as bob2, ada2 as a2:
                while (await a2.receive())["cmd"] != "JOIN_GAME_REP":
                    pass
                while event_of(await bob2.receive()) != "back":
                    pass
        store.close()
    stream = [m for m in bob.received + bob2.received if event_of(m) in ("away", "back")]
    assert [(event_of(m), m["payload"]["data"]["name"]) for m in stream] == [
        ("away", "p0"),
        ("back", "p0"),
    ]
    assert stream[0]["payload"]["prompt"].startswith("p0 is not back yet after a server restart")
