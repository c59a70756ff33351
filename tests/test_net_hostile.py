"""Hostile and malformed input: each gets an ERROR with its own code, changes nothing,
and a game in another room carries on (the witness makes a move after every test)."""

from __future__ import annotations

import json
import random
from contextlib import asynccontextmanager

import jsonschema
import pytest
import trio
from trio_websocket import ConnectionClosed, ConnectionRejected, open_websocket_url

from cardgame.fsm.bots import make_bot
from cardgame.fsm.cards import new_deck
from cardgame.net.client import GameClient, LobbyClient, bot_view, question_of
from cardgame.net.protocol import SERVER_SCHEMA

SERVER_VALIDATOR = jsonschema.Draft202012Validator(SERVER_SCHEMA)


class Witness:
    """A person and a computer playing in their own room while the tests misbehave."""

    def __init__(self, client: GameClient) -> None:
        self.client = client
        self.bot = make_bot("greedy", random.Random(5))
        self.moves = 0

    async def move(self) -> None:
        """Answer the pending question and see the game answer back: the room is alive."""
        while self.client.question is None:
            await self.client.receive()
        question = self.client.question
        decision = self.bot.decide(question_of(question), bot_view(question["payload"]["data"]))
        await self.client.answer(decision.data, decision.last_card)
        reply = await self.client.receive()
        assert reply["cmd"] != "ERROR", reply
        self.moves += 1


@pytest.fixture
async def hostile_server(start_server):
    return await start_server(
        max_frame=1024,
        hard_frame_limit=8192,
        rate=50,
        burst=20,
        flood_close_after=30,
        turn_seconds=1000,
    )


@pytest.fixture
async def witness(hostile_server, nursery):
    async with LobbyClient.connect(hostile_server.url) as lobby:
        ticket = await lobby.create_room("witness", 2, "wit", computers=1)
    ready = trio.Event()
    holder: dict = {}

    async def keep_connected(task_status=trio.TASK_STATUS_IGNORED):
        async with GameClient.connect(hostile_server.url, ticket) as client:
            holder["w"] = Witness(client)
            task_status.started()
            await trio.sleep_forever()

    await nursery.start(keep_connected)
    ready.set()
    yield holder["w"]
    # the witness room carried on: one more move after the hostile test
    await holder["w"].move()


@asynccontextmanager
async def raw(server, path="/lobby"):
    async with open_websocket_url(server.url + path) as ws:
        yield ws


async def error_for(ws, frame) -> dict:
    if isinstance(frame, dict):
        frame = json.dumps(frame)
    await ws.send_message(frame)
    while True:
        reply = json.loads(await ws.get_message())
        assert not list(SERVER_VALIDATOR.iter_errors(reply))
        if reply["cmd"] == "ERROR":
            return reply


def cmd(name, data=None, msg_id="1", **payload):
    return {"cmd": name, "msg_id": msg_id, "payload": {"data": data, **payload}}


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ("{not json", "bad_json"),
        (b"\x00\x01binary", "binary_frame"),
        ("[1, 2, 3]", "bad_message"),
        ('{"cmd": "GET_ROOMS"}', "bad_message"),  # no msg_id
        (cmd("SHUFFLE_THE_DECK"), "unknown_cmd"),
        (cmd("JOIN_GAME", {"room_id": "r", "user_id": "u", "token": "t"}), "wrong_endpoint"),
        (
            cmd("CREATE_A_ROOM", {"room_name": "r", "num_of_players": "four", "user_name": "a"}),
            "bad_message",
        ),
        (
            cmd("CREATE_A_ROOM", {"room_name": "r", "num_of_players": 9, "user_name": "a"}),
            "bad_message",
        ),
        (
            cmd(
                "CREATE_A_ROOM",
                {"room_name": "r", "num_of_players": 2, "user_name": "a", "admin": True},
            ),
            "bad_message",
        ),
        (
            cmd("CREATE_A_ROOM", {"room_name": "r", "num_of_players": 2, "user_name": "a" * 33}),
            "bad_message",
        ),
        (
            cmd("CREATE_A_ROOM", {"room_name": "r", "num_of_players": 2, "user_name": "a\nb"}),
            "bad_name",
        ),
        (
            cmd(
                "CREATE_A_ROOM",
                {"room_name": "r", "num_of_players": 2, "user_name": "a", "computers": 2},
            ),
            "bad_size",
        ),
        (cmd("JOIN_ROOM", {"room_id": "nope", "user_name": "a"}), "unknown_room"),
        (cmd("GET_ROOMATES"), "not_now"),
        (cmd("CANCEL_CREATE"), "not_now"),
        ("x" * 2000, "too_large"),
    ],
)
async def test_lobby_refusals(hostile_server, witness, frame, code):
    async with raw(hostile_server) as ws:
        error = await error_for(ws, frame)
        assert error["payload"]["data"]["code"] == code
        assert error["payload"]["prompt"]
        # nothing changed: the session is still in the lobby and works
        rooms = await error_for(ws, cmd("JOIN_ROOM", {"room_id": "nope", "user_name": "z"}))
        assert rooms["payload"]["data"]["code"] == "unknown_room"
    assert [r["room_name"] for r in await hostile_server.lobby.registry.open_rooms()] == []
    await witness.move()


async def test_frame_beyond_the_transport_limit_closes_only_that_connection(
    hostile_server, witness
):
    async with raw(hostile_server) as ws:
        await ws.send_message("x" * 20_000)
        with pytest.raises(ConnectionClosed) as closed:
            await ws.get_message()
        assert closed.value.reason.code == 1009
    await witness.move()


async def test_flood_is_rate_limited_then_closed(hostile_server, witness):
    async with raw(hostile_server) as ws:
        frame = json.dumps(cmd("GET_ROOMS"))
        codes = []
        with pytest.raises(ConnectionClosed) as closed:
            for _ in range(500):
                await ws.send_message(frame)
            while True:
                reply = json.loads(await ws.get_message())
                codes.append(reply["payload"]["data"] if reply["cmd"] == "ERROR" else "ok")
        assert {"code": "rate_limited", "cmd": None} in codes
        assert closed.value.reason.code == 1008
    await witness.move()


async def test_unknown_path_is_rejected(hostile_server, witness):
    with pytest.raises(ConnectionRejected) as rejected:
        async with raw(hostile_server, "/admin"):
            pass
    assert rejected.value.status_code == 404
    await witness.move()


@pytest.fixture
async def seated(hostile_server):
    """A two-person room: (ticket of ada, ticket of bob)."""
    async with LobbyClient.connect(hostile_server.url) as lobby:
        ada = await lobby.create_room("duel", 2, "ada")
    async with LobbyClient.connect(hostile_server.url) as lobby:
        bob = await lobby.join_room(ada.room_id, "bob")
    return ada, bob


@pytest.mark.parametrize(
    ("hello", "code"),
    [
        ({"token": "wrong"}, "bad_token"),
        ({"user_id": "someone-else"}, "bad_token"),
        ({"room_id": "elsewhere"}, "unknown_room"),
        ({"token": None}, "bad_message"),
    ],
)
async def test_game_connection_needs_the_right_token(hostile_server, witness, seated, hello, code):
    ada, _ = seated
    data = {"room_id": ada.room_id, "user_id": ada.user_id, "token": ada.token, **hello}
    async with raw(hostile_server, "/game") as ws:
        error = await error_for(ws, cmd("JOIN_GAME", data))
        assert error["payload"]["data"]["code"] == code and error["msg_id"] == "0"
        leave = {"cmd": "GAME_MESSAGE", "msg_id": "2", "payload": {"action": "leave"}}
        error = await error_for(ws, leave)
        assert error["payload"]["data"]["code"] == "not_now"  # still not joined
    room = hostile_server.lobby.rooms[ada.room_id]
    assert not any(p.ever_connected for p in room.players)
    await witness.move()


async def start_duel(url, ada_ticket, bob_ticket, ada, bob):
    """Both connected; ada chooses that she plays first. Returns ada's turn question."""
    while ada.question is None:
        await ada.receive()
    await ada.answer(0)
    while ada.question is None or ada.question["payload"]["data"]["question"] != "turn":
        await ada.receive()
    return ada.question


async def test_moves_out_of_turn_and_cards_not_held_change_nothing(hostile_server, witness, seated):
    ada_ticket, bob_ticket = seated
    url = hostile_server.url
    async with (
        GameClient.connect(url, ada_ticket) as ada,
        GameClient.connect(url, bob_ticket) as bob,
    ):
        question = await start_duel(url, ada_ticket, bob_ticket, ada, bob)
        game = hostile_server.lobby.rooms[ada_ticket.room_id].game
        hands = [list(s.hand) for s in game.seats]
        mine = question["payload"]["data"]["hand"]
        not_held = next(c.text for c in new_deck() if c.text not in mine)
        while bob.view.get("event") != "turn":
            await bob.receive()
        last_turn_id = bob.received[-1]["msg_id"]

        async def refused(client, payload):
            await client.send("GAME_MESSAGE", payload)
            while True:
                message = await client.receive()
                if message["cmd"] == "ERROR":
                    return message["payload"]["data"]["code"]

        answer = {"action": "answer", "reply_to": question["msg_id"]}
        assert (
            await refused(bob, {"action": "answer", "reply_to": last_turn_id, "data": []})
            == "no_question"
        )
        assert await refused(ada, {**answer, "data": [not_held]}) == "not_in_hand"
        assert await refused(ada, {**answer, "data": ["purple-cross"]}) == "bad_card"
        assert await refused(ada, {**answer, "data": mine[:3]}) == "bad_play"
        assert await refused(ada, {**answer, "data": "red"}) == "bad_answer"
        assert await refused(ada, {**answer, "reply_to": "999", "data": []}) == "stale_answer"
        assert await refused(ada, {"action": "answer", "data": []}) == "bad_message"
        assert await refused(ada, {"action": "cheat"}) == "bad_message"
        await ada.send("LEAVE")
        error = await ada.receive()
        assert error["payload"]["data"] == {"code": "not_leaving", "cmd": "LEAVE"}
        assert [list(s.hand) for s in game.seats] == hands
        assert game.state == "turn" and game.table.current == 0
        # the question still stands; through the client library, a refused answer puts
        # it back for another answer: ada draws, and the game moves on to bob
        ada.question = question
        await ada.answer([not_held])
        while (await ada.receive())["cmd"] != "ERROR":
            pass
        assert ada.question is question
        await ada.answer([])
        while bob.question is None:
            await bob.receive()
        assert bob.question["payload"]["data"]["question"] == "turn"
    await witness.move()


async def test_repeated_msg_id_is_answered_again_not_applied_twice(hostile_server, witness, seated):
    ada_ticket, bob_ticket = seated
    url = hostile_server.url
    async with (
        GameClient.connect(url, ada_ticket) as ada,
        GameClient.connect(url, bob_ticket) as bob,
    ):
        question = await start_duel(url, ada_ticket, bob_ticket, ada, bob)
        game = hostile_server.lobby.rooms[ada_ticket.room_id].game
        draw = {"action": "answer", "reply_to": question["msg_id"], "data": []}
        frame = {"cmd": "GAME_MESSAGE", "msg_id": "same", "payload": draw}
        await ada.ws.send_message(json.dumps(frame))
        first = [await ada.receive(), await ada.receive()]  # the picked card, then the new view
        hand_after = list(game.seats[0].hand)
        await ada.ws.send_message(json.dumps(frame))
        again = [json.loads(await ada.ws.get_message()) for _ in range(2)]
        assert again == first  # the same replies, ids and all
        assert list(game.seats[0].hand) == hand_after and game.table.current == 1
